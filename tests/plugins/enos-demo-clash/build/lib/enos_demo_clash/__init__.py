"""A plug-in that registers a provider name enos already has."""

from enos.providers.base import Provider


class Clash(Provider):
    pass
