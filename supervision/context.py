def notifications(request):
    """The unread count in the top bar; counted only when a template asks for it."""
    user = getattr(request, "user", None)

    def unread():
        if user is None or not user.is_authenticated:
            return 0
        return user.notifications.filter(read_at__isnull=True).count()

    return {"unread_notifications": unread}
