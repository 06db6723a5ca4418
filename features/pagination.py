"""Pages of a list without counting the whole list: one row more than a page tells "older"."""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator


class UncountedPage(Page):
    def __init__(self, object_list, number, paginator, more):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self.more or self.number > 1


class UncountedPaginator(Paginator):
    """
    A paginator that never runs COUNT(*) for a page: an archive of 100,000 features costs the
    same to page through as one of 100. ``?page=last`` is the one request that counts.
    """

    def validate_number(self, number):
        if number == "last":
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not a whole number.") from error
        if number < 1:
            raise EmptyPage("That page number is less than 1.")
        return number

    def page(self, number):
        if number == "last":
            number = self.num_pages
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results.")
        return UncountedPage(rows[: self.per_page], number, self, len(rows) > self.per_page)
