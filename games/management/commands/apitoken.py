from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from games.accounts import rotate_token


class Command(BaseCommand):
    help = "Print a new API token for an existing user (the old one stops working), for staff scripts and bots."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        self.stdout.write(rotate_token(user))
