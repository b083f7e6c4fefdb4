"""In-app notifications: written in bulk, e-mailed after commit, shown under the bell,
opened only by their recipient."""

import pytest
from django.core import mail

from labqms import notify
from labqms.models import Notification


@pytest.mark.django_db
def test_notify_writes_rows_and_emails_them(make_user, django_capture_on_commit_callbacks):
    a = make_user("technical_lead", username="a", email="a@lab.example.cn")
    b = make_user("technical_lead", username="b", email="")
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify([notify.Message(a, "Due soon: EQ-1", "", "/equipment/1/"), notify.Message(b, "Due soon: EQ-1")])
    assert Notification.objects.count() == 2
    assert [m.to for m in mail.outbox] == [["a@lab.example.cn"]]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_bell_counts_unread_and_only_the_recipient_opens(client, make_user):
    a = make_user("technical_lead", username="a")
    b = make_user("technical_lead", username="b")
    note = Notification.objects.create(recipient=a, subject="Impact analysis opened", url="/equipment/impact/1/")
    client.force_login(b)
    assert client.post(f"/notifications/{note.pk}/open/").status_code == 404
    client.force_login(a)
    page = client.get("/notifications/")
    assert page.context["unread_notifications"] == 1
    assert "Impact analysis opened" in page.content.decode()
    response = client.post(f"/notifications/{note.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/equipment/impact/1/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert client.get("/notifications/").context["unread_notifications"] == 0


@pytest.mark.django_db
def test_open_refuses_links_to_other_sites(client, make_user):
    a = make_user("technical_lead", username="a")
    note = Notification.objects.create(recipient=a, subject="x", url="https://evil.example/")
    client.force_login(a)
    assert client.post(f"/notifications/{note.pk}/open/")["Location"] == "/notifications/"
