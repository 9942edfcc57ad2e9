"""Plugin discovery and the stage registry.

Built-in stages are modules listed in :data:`DEFAULT_PLUGINS`, registered with the same
hooks as third-party plugins, which are found through the ``podcast_gen`` entry-point group.
``PODCAST_GEN_PLUGINS`` (a comma list of entry-point names; empty means none) restricts
which external plugins load; ``PODCAST_GEN_DISABLE_PLUGINS`` blocks some by name.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError, UnknownStageError

if TYPE_CHECKING:
    from .stage import Stage
    from .synthesis import Engine

__all__ = ["DEFAULT_PLUGINS", "ENTRY_POINT_GROUP", "PluginInfo", "Plugins", "StageEntry", "get_plugins"]

ENTRY_POINT_GROUP = "podcast_gen"
DEFAULT_PLUGINS = (
    "podcast.stages.ingest",
    "podcast.stages.write",
    "podcast.stages.normalize",
    "podcast.stages.synthesize",
    "podcast.stages.synthesize.moss_ttsd.plugin",
    "podcast.stages.synthesize.remote",
    "podcast.stages.master",
    "podcast.stages.show",
)


@dataclass(frozen=True, slots=True)
class StageEntry:
    """One registered stage implementation and the plugin that provided it."""

    kind: str
    name: str
    cls: type[Stage]
    plugin: str

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.name}"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """What ``podcast-gen plugins`` shows for one plugin."""

    name: str
    version: str
    builtin: bool
    hooks: tuple[str, ...]
    stages: tuple[str, ...]


class Plugins:
    """Typed facade over the pluggy manager plus the registries the host owns."""

    def __init__(self, manager: pluggy.PluginManager | None = None) -> None:
        self.pm = manager or pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._versions: dict[str, str] = {}
        self._stages: dict[tuple[str, str], StageEntry] | None = None
        self._profiles: dict[str, tuple[Any, str]] | None = None

    # ── loading ──────────────────────────────────────────────────────────────
    def load(self, env: dict[str, str] | None = None) -> Plugins:
        """Register external plugins (filtered by env) and then the built-ins."""
        env = dict(os.environ if env is None else env)
        for name in filter(None, env.get("PODCAST_GEN_DISABLE_PLUGINS", "").split(",")):
            self.pm.set_blocked(name.strip())
        external = self._load_entry_points(env.get("PODCAST_GEN_PLUGINS"))
        version = _dist_version("podcast-gen")
        for module_name in DEFAULT_PLUGINS:
            if self.pm.get_plugin(module_name) is None and not self.pm.is_blocked(module_name):
                self.pm.register(importlib.import_module(module_name), module_name)
                self._versions[module_name] = version
        self.pm.check_pending()
        self._validate(external)
        return self

    def _validate(self, names: set[str]) -> None:
        """Run the registrations of the plugins ``names`` into scratch registries, so a bad
        external plugin fails at load with its name (built-ins are checked by the tests)."""
        if not names:
            return
        wanted = names.__contains__
        stages: dict[tuple[str, str], StageEntry] = {}
        self._collect("register_stages", functools.partial(_add_stage, stages), wanted)
        self._collect("register_synthesizers", functools.partial(_add_engine, stages), wanted)
        self._collect("register_normalizers", functools.partial(_add_profile, {}), wanted)

    def _load_entry_points(self, allowed: str | None) -> set[str]:
        """Register the installed plugins ``allowed`` (all when ``None``); returns their names."""
        wanted = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
        loaded: set[str] = set()
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if (wanted is not None and ep.name not in wanted) or self.pm.is_blocked(ep.name):
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not hide the others' errors
                raise PluginError(f"plugin {ep.name!r} failed to import: {exc}") from exc
            self.pm.register(plugin, ep.name)
            self._versions[ep.name] = ep.dist.version if ep.dist else "unknown"
            loaded.add(ep.name)
        return loaded

    def register(self, plugin: object, name: str, version: str = "test") -> None:
        """Register an in-process plugin (tests, inline plugins)."""
        self.pm.register(plugin, name)
        self._versions[name] = version
        self._stages = self._profiles = None

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._stages = self._profiles = None

    # ── registries ───────────────────────────────────────────────────────────
    def stages(self) -> dict[tuple[str, str], StageEntry]:
        """Every stage implementation by ``(kind, name)``; engines appear as ``synthesize``."""
        if self._stages is None:
            registry: dict[tuple[str, str], StageEntry] = {}
            self._collect("register_stages", functools.partial(_add_stage, registry))
            self._collect("register_synthesizers", functools.partial(_add_engine, registry))
            self._stages = registry
        return self._stages

    def profiles(self) -> dict[str, tuple[Any, str]]:
        """Normalization profiles by name, with the providing plugin."""
        if self._profiles is None:
            profiles: dict[str, tuple[Any, str]] = {}
            self._collect("register_normalizers", functools.partial(_add_profile, profiles))
            self._profiles = profiles
        return self._profiles

    def prompt_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        self._collect("register_prompt_dirs", lambda plugin: dirs.append)
        return dirs

    def _collect(
        self,
        hook_name: str,
        make_register: Callable[[str], Callable[..., None]],
        only: Callable[[str], bool] = lambda _name: True,
    ) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order (pluggy calls them in reverse)
            if only(impl.plugin_name):
                impl.function(register=make_register(impl.plugin_name))

    def get(self, kind: str, name: str) -> StageEntry:
        """The implementation ``name`` of ``kind``; unknown → error listing installed names."""
        entry = self.stages().get((kind, name))
        if entry is None:
            if not self.names(kind):
                kinds = ", ".join(self.kinds())
                raise UnknownStageError(
                    f"no installed plugin provides a {kind!r} stage (asked for {kind}.{name}); installed kinds: {kinds}"
                )
            installed = ", ".join(self.names(kind))
            raise UnknownStageError(f"unknown {kind} implementation {name!r}; installed: {installed}")
        return entry

    def names(self, kind: str) -> list[str]:
        return sorted(n for k, n in self.stages() if k == kind)

    def kinds(self) -> list[str]:
        return sorted({k for k, _ in self.stages()})

    def ingesters(self) -> list[StageEntry]:
        """Ingesters, highest priority first (ties: registration order)."""
        found = [e for e in self.stages().values() if e.kind == "ingest"]
        return sorted(found, key=lambda e: -e.cls.priority)  # type: ignore[attr-defined]

    def profile(self, name: str) -> Any:
        found = self.profiles().get(name)
        if found is None:
            installed = ", ".join(sorted(self.profiles())) or "none"
            raise UnknownStageError(f"unknown normalization profile {name!r}; installed: {installed}")
        return found[0]

    # ── lifecycle hooks (typed forwarding) ──────────────────────────────────
    def stage_started(self, stage: Stage, episode: Any) -> None:
        self.pm.hook.stage_started(stage=stage, episode=episode)

    def stage_progress(self, stage: Stage, completed: float, total: float | None, what: str) -> None:
        self.pm.hook.stage_progress(stage=stage, completed=completed, total=total, description=what)

    def stage_finished(self, stage: Stage, episode: Any, elapsed: float, cached: bool) -> None:
        self.pm.hook.stage_finished(stage=stage, episode=episode, elapsed=elapsed, cached=cached)

    def register_commands(self, app: Any) -> None:
        self.pm.hook.register_commands(app=app)

    # ── inspection ───────────────────────────────────────────────────────────
    def info(self) -> list[PluginInfo]:
        """Every loaded plugin with version, implemented hooks and provided stages."""
        by_plugin: dict[str, list[str]] = {}
        for entry in self.stages().values():
            by_plugin.setdefault(entry.plugin, []).append(entry.id)
        result = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None or name.startswith("_"):
                continue
            hooks = sorted(impl.name for impl in _hookcallers(self.pm, plugin))
            version = self._versions.get(name, "unknown")
            builtin = name in DEFAULT_PLUGINS
            result.append(PluginInfo(name, version, builtin, tuple(hooks), tuple(sorted(by_plugin.get(name, [])))))
        return sorted(result, key=lambda p: (not p.builtin, p.name))


def _hookcallers(pm: pluggy.PluginManager, plugin: object) -> Iterator[Any]:
    return iter(pm.get_hookcallers(plugin) or [])


def _add_stage(registry: dict[tuple[str, str], StageEntry], plugin: str) -> Callable[[type[Stage]], None]:
    def register(cls: type[Stage]) -> None:
        from .stage import Ingester, Stage

        _require_class(plugin, cls, Stage, "podcast.Stage")
        if not cls.kind or not cls.name:
            raise PluginError(f"plugin {plugin!r} registered {cls.__name__} without kind and name")
        if cls.kind == "ingest":
            _require_class(plugin, cls, Ingester, "podcast.Ingester (kind 'ingest')")
        _put(registry, StageEntry(cls.kind, cls.name, cls, plugin))

    return register


def _add_engine(registry: dict[tuple[str, str], StageEntry], plugin: str) -> Callable[[type[Engine[Any]]], None]:
    def register(engine_cls: type[Engine[Any]]) -> None:
        from .rendering import stage_for_engine
        from .synthesis import DialogueEngine, TurnEngine

        _require_class(plugin, engine_cls, (TurnEngine, DialogueEngine), "podcast.TurnEngine or podcast.DialogueEngine")
        if not isinstance(engine_cls.name, str) or not engine_cls.name.strip():
            raise PluginError(f"plugin {plugin!r} registered engine {engine_cls.__name__} without a name")
        _put(registry, StageEntry("synthesize", engine_cls.name, stage_for_engine(engine_cls), plugin))

    return register


def _require_class(plugin: str, cls: object, base: type | tuple[type, ...], what: str) -> None:
    """A registered object must be a concrete subclass of ``base``; else one line naming the plugin."""
    label = getattr(cls, "__name__", repr(cls))
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(f"plugin {plugin!r} registered {label}, which is not a subclass of {what}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise PluginError(f"plugin {plugin!r} registered {label}, which does not implement {missing}")


def _put(registry: dict[tuple[str, str], StageEntry], entry: StageEntry) -> None:
    existing = registry.get((entry.kind, entry.name))
    if existing is not None:
        raise PluginError(
            f"{entry.id} is registered twice: by {existing.plugin!r} and by {entry.plugin!r}; "
            "disable one with PODCAST_GEN_DISABLE_PLUGINS"
        )
    registry[(entry.kind, entry.name)] = entry


def _add_profile(profiles: dict[str, tuple[Any, str]], plugin: str) -> Callable[[Any], None]:
    def register(profile: Any) -> None:
        name = getattr(profile, "name", None)
        if not isinstance(name, str) or not name or not callable(getattr(profile, "normalize", None)):
            raise PluginError(
                f"plugin {plugin!r} registered {profile!r} as a normalization profile; "
                "it needs a name and a normalize(text, language) method"
            )
        if profile.name in profiles:
            other = profiles[profile.name][1]
            raise PluginError(f"normalization profile {profile.name!r} registered by {other!r} and {plugin!r}")
        profiles[profile.name] = (profile, plugin)

    return register


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.cache
def get_plugins() -> Plugins:
    """The process-wide, lazily loaded plugin set (tests build their own :class:`Plugins`)."""
    return Plugins().load()
