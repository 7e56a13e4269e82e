from django.apps import AppConfig


class LightCyclesConfig(AppConfig):
    """Light cycles, a real-time game. No models and no ``ready``: the engine
    imports ``lightcycles.game_rules`` itself (``GamesConfig.ready``
    autodiscovers every app's ``game_rules``), and its matches are run by
    ``games.realtime`` like any real-time game's."""

    name = "lightcycles"
    verbose_name = "Light cycles"
