from django.core.management.base import BaseCommand, CommandError

from games.models import Match
from games.services import replay_differences


class Command(BaseCommand):
    help = "Replay matches from their event logs alone and compare with what is stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="every match, not only finished and aborted ones")

    def handle(self, *args, all: bool, **options) -> None:
        matches = Match.objects.all() if all else Match.objects.filter(status__in=["finished", "aborted"])
        checked, broken = 0, []
        for match in matches.iterator():
            checked += 1
            differences = replay_differences(match)
            if differences:
                broken.append(match.pk)
                self.stderr.write(f"match {match.pk}: stored {', '.join(differences)} differ from the replay")
        self.stdout.write(f"replayed {checked} match(es), {len(broken)} differ")
        if broken:
            raise CommandError(f"{len(broken)} match(es) differ from their logs: {broken}")
