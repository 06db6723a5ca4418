from django.utils import timezone
from django.utils.formats import date_format


def local_datetime(value):
    """A date and time in UK time, naming the zone: '25 March 2009, 09:00 GMT'."""
    if value is None:
        return "—"
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")
