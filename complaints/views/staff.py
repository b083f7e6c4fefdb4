"""The staff complaint pages (R-CMP-1..7, R-MGT-2): the quality lead's list, registering
a complaint, one complaint with its steps, its printable file and its attachments."""

from complaints.views import staff_detail, staff_list

urlpatterns = staff_list.urlpatterns + staff_detail.urlpatterns
