"""The HTML pages people look at (the checklist, the preview) come from Jinja2 templates.

The templates ship in the package (`mlops_cards/templates/`); a course overrides any of them
with a file of the same name in its own folder (the manifest's `page_templates:`), the way
`card_templates/` restyles the cards. Autoescaping is on: a value is escaped unless it is
`Markup`, which only the filters below return, for HTML this package rendered itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

# name -> function, each returning HTML (`Markup`); registered by the modules that own them.
_FILTERS: dict[str, Callable[..., Any]] = {}


def html_filter(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Register `function` as the template filter `name`; its result is HTML, not escaped."""

    def register(function: Callable[..., str]) -> Callable[..., str]:
        _FILTERS[name] = lambda *args: Markup(function(*args))
        return function

    return register


@functools.cache
def environment(folder: Path | None = None) -> jinja2.Environment:
    """Templates from `folder` first (when given), then the package's own."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("mlops_cards", "templates")]
    if folder is not None:
        loaders.insert(0, jinja2.FileSystemLoader(folder))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # every template is HTML, whatever its name ends with
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def render(name: str, folder: Path | None = None, **values: Any) -> str:
    """The template `name` filled with `values`."""
    env = environment(folder)
    env.filters.update(_FILTERS)  # filters registered since the environment was made
    return env.get_template(name).render(**values)
