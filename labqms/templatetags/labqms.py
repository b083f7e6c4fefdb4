from django import template

from labqms import permissions
from labqms.models import Role

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, action, obj=None):
    """``{% can "people.manage_authorisations" as allowed %}`` — asks labqms.permissions."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return permissions.can(user, action, obj)


@register.filter
def role_label(value):
    try:
        return Role(value).label
    except ValueError:
        return value
