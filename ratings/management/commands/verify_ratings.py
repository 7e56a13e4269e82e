"""``python manage.py verify_ratings``: recompute every rating from the
finished rated matches and report each difference from what is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ratings.models import Rating, RatingChange
from ratings.verify import differences, rated_matches


class Command(BaseCommand):
    help = "Recompute every rating from the finished rated matches, in order, and compare with what is stored."

    def handle(self, *args: Any, **options: Any) -> None:
        found = 0
        for difference in differences():
            found += 1
            self.stderr.write(difference)
        self.stdout.write(
            f"recomputed {len(rated_matches())} rated match(es), {Rating.objects.count()} rating(s) and "
            f"{RatingChange.objects.count()} rating change(s): {found} difference(s)"
        )
        if found:
            raise CommandError(f"{found} stored rating figure(s) differ from the recomputation")
