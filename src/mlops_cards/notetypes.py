"""The four Anki note types a deck uses: Question, Term, Cloze, Objective.

What Anki uses to recognise a note type on re-import is fixed here, in code, once:
- the model id (Anki matches note types by id; a changed id means a new note type and every
  learner's notes orphaned on the old one), and
- the field and template lists with their pinned ids. Anki >= 2.1.67 keeps an `id` on every
  field and template (`NoteFieldConfig.id`, `CardTemplateConfig.id`) and compares them when an
  import brings a changed note type: same count and same ids = same schema, updated in place.

Only the look (front/back HTML per card, CSS) comes from the templates folder, so authors
may restyle cards without touching identity. Field lists are designed to last: adding or
removing a field is a new note type (new id) and a migration note in the CHANGELOG.

Fields, in order (the first one is what Anki's browser sorts and checks duplicates by):
- Question:  Front, Back, Label, Lesson, Source, Extra
- Term:      Term, Definition, Sentence, Lesson, Source, Extra, Reverse
             ("Definition to Term" is generated only when Reverse is non-empty, e.g. "y")
- Cloze:     Text, Back Extra, Lesson, Source
- Objective: Objective, Answer, Lesson, Source, Extra
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

from mlops_cards.errors import CardsError
from mlops_cards.limits import MAX_TEMPLATE_BYTES, MissingFile, read_limited

__all__ = [
    "NOTE_TYPE_KINDS",
    "CardTemplate",
    "NoteField",
    "NoteType",
    "NoteTypeKind",
    "default_templates_dir",
    "load_note_types",
]

# The four note types; a note's own kind (`models.NoteKind`) adds `extra`, a question card.
NoteTypeKind = Literal["question", "term", "cloze", "objective"]
NOTE_TYPE_KINDS: tuple[NoteTypeKind, ...] = ("question", "term", "cloze", "objective")


class NoteField(NamedTuple):
    name: str
    id: int  # pinned; Anki >= 2.1.67 matches fields by it


class CardTemplate(NamedTuple):
    name: str
    id: int  # pinned; Anki >= 2.1.67 matches templates by it
    qfmt: str  # front side, Anki template syntax
    afmt: str  # back side


@dataclass(frozen=True)
class NoteType:
    kind: NoteTypeKind
    model_id: int
    name: str
    fields: tuple[NoteField, ...]
    templates: tuple[CardTemplate, ...]
    css: str
    is_cloze: bool

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def field_values(self, values: dict[str, str]) -> list[str]:
        """The note's field list in this note type's order; fields not given are empty."""
        unknown = sorted(set(values) - set(self.field_names))
        if unknown:
            raise ValueError(f"{self.name} has no field {', '.join(unknown)}")
        return [values.get(name, "") for name in self.field_names]

    def content_hash(self) -> str:
        """sha256 of everything Anki stores for the note type: a changed hash needs a new `mod`."""
        payload = {
            "kind": self.kind,
            "model_id": self.model_id,
            "name": self.name,
            "fields": [list(field) for field in self.fields],
            "templates": [list(template) for template in self.templates],
            "css": self.css,
            "is_cloze": self.is_cloze,
        }
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def genanki_fields(self) -> list[dict[str, object]]:
        """Fresh field dicts for `genanki.Model(fields=...)` (genanki mutates them, so never
        reuse). genanki copies the dicts into the collection as they are, `id` included."""
        return [{"name": field.name, "id": field.id} for field in self.fields]

    def genanki_templates(self) -> list[dict[str, object]]:
        """Fresh template dicts for `genanki.Model(templates=...)`, pinned `id` included."""
        return [
            {"name": t.name, "id": t.id, "qfmt": t.qfmt, "afmt": t.afmt} for t in self.templates
        ]


# --- identity: chosen once, never changed --------------------------------------------------
# Model ids in genanki's recommended range [2**30, 2**31): far from Anki's own (millisecond
# timestamps) and from 1 (the Default deck/Basic). Field and template ids are random integers
# in [2**40, 2**52): well inside int64 and exactly representable as a JavaScript number, so no
# tool on the way (JSON in the .apkg, Anki's TypeScript editor) can round them.


@dataclass(frozen=True)
class _Spec:
    model_id: int
    name: str
    fields: tuple[NoteField, ...]
    templates: tuple[tuple[str, int, str, str], ...]  # name, id, front file, back file
    is_cloze: bool = False


_SPECS: dict[NoteTypeKind, _Spec] = {
    "question": _Spec(
        model_id=1619217110,
        name="mlops-cards Question",
        fields=(
            NoteField("Front", 2976647484871766),
            NoteField("Back", 3662344724221000),
            NoteField("Label", 4329157050448167),
            NoteField("Lesson", 390413176298603),
            NoteField("Source", 1655368464217364),
            NoteField("Extra", 3108680416856945),
        ),
        templates=(("Question", 3401428624772193, "question/front.html", "question/back.html"),),
    ),
    "term": _Spec(
        model_id=1128517161,
        name="mlops-cards Term",
        fields=(
            NoteField("Term", 4398751167643358),
            NoteField("Definition", 1791909239223453),
            NoteField("Sentence", 2893288913503707),
            NoteField("Lesson", 3411854031467524),
            NoteField("Source", 4104665961004462),
            NoteField("Extra", 2108359141241973),
            NoteField("Reverse", 2787746858961771),
        ),
        templates=(
            ("Term to Definition", 2738602081597915, "term/front.html", "term/back.html"),
            (
                "Definition to Term",
                4033976656462919,
                "term/reverse-front.html",
                "term/reverse-back.html",
            ),
        ),
    ),
    "cloze": _Spec(
        model_id=1225006056,
        name="mlops-cards Cloze",
        fields=(
            NoteField("Text", 92758386952380),
            NoteField("Back Extra", 3727625125178850),
            NoteField("Lesson", 119986944102483),
            NoteField("Source", 1667884742109828),
        ),
        templates=(("Cloze", 539311984453614, "cloze/front.html", "cloze/back.html"),),
        is_cloze=True,
    ),
    "objective": _Spec(
        model_id=1461032154,
        name="mlops-cards Objective",
        fields=(
            NoteField("Objective", 750178087425775),
            NoteField("Answer", 4185123795510948),
            NoteField("Lesson", 2930280502246399),
            NoteField("Source", 2866232892942580),
            NoteField("Extra", 2154397390490575),
        ),
        templates=(("Objective", 2636968348851807, "objective/front.html", "objective/back.html"),),
    ),
}

# Names Anki fills in itself; a template may use them without a field of that name.
_SPECIAL_FIELDS = frozenset({"Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag", "CardID"})
_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SHARED_CSS = "style.css"


def default_templates_dir() -> Path:
    """The templates shipped inside the package, or the repository's when run from source."""
    packaged = resources.files("mlops_cards").joinpath("card_templates")
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "card_templates"


def load_note_types(templates_dir: Path | None = None) -> dict[str, NoteType]:
    """Every note type, keyed by kind, with the HTML and CSS of `templates_dir`.

    Raises CardsError naming the file when a template is missing, unreadable, or refers to a
    field the note type does not have.
    """
    folder = templates_dir if templates_dir is not None else default_templates_dir()
    if not folder.is_dir():
        raise CardsError(f"{folder}: card templates folder not found")
    shared_css = _read(folder / _SHARED_CSS, folder)
    from mlops_cards.render import pygments_css  # here: a check served by the cache needs none

    highlight_css = pygments_css()
    note_types: dict[str, NoteType] = {}
    for kind in NOTE_TYPE_KINDS:
        spec = _SPECS[kind]
        templates = []
        for name, template_id, front_file, back_file in spec.templates:
            front = _read(folder / front_file, folder)
            back = _read(folder / back_file, folder)
            _check_template(folder / front_file, front, spec, front_side=True)
            _check_template(folder / back_file, back, spec, front_side=False)
            templates.append(CardTemplate(name, template_id, front, back))
        kind_css = folder / kind / _SHARED_CSS
        css_parts = [shared_css]
        if kind_css.exists() or kind_css.is_symlink():
            css_parts.append(_read(kind_css, folder))
        css_parts.append(highlight_css)
        note_types[kind] = NoteType(
            kind=kind,
            model_id=spec.model_id,
            name=spec.name,
            fields=spec.fields,
            templates=tuple(templates),
            css="\n".join(part.strip("\n") + "\n" for part in css_parts),
            is_cloze=spec.is_cloze,
        )
    return note_types


def _read(path: Path, folder: Path) -> str:
    """A template's text. It must be a regular file inside `folder` (a link is followed only
    if it stays inside): a link to `/proc/self/environ` or `/etc/passwd` would publish the
    machine's secrets in every deck's note type, a FIFO or `/dev/zero` would hang the build."""
    try:
        target = path.resolve()
        inside = target.is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte in the name
        target, inside = path, False
    if not inside:
        raise CardsError(
            f"{path}: card template is a link to a file outside the templates folder "
            f"{folder} (copy the file into the folder)"
        )
    try:
        data = read_limited(
            target,
            MAX_TEMPLATE_BYTES,
            str(path),
            "card template",
            "keep templates small; put pictures in the deck, not in the CSS",
            follow_links=False,
        )
    except MissingFile:
        hint = "restore it, or drop the manifest's `templates:` to use the built-in ones"
        raise CardsError(f"{path}: card template file missing ({hint})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CardsError(f"{path}: card template is not UTF-8 text") from None
    # Line endings and a BOM must not change the note type's hash from one checkout to another.
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def _check_template(path: Path, text: str, spec: _Spec, *, front_side: bool) -> None:
    """Catch at build time what Anki would only show as a broken card on the learner's phone."""
    fields = {field.name for field in spec.fields}
    open_sections: list[tuple[str, int]] = []
    uses_field = False
    uses_cloze = False
    for match in _TAG.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        where = f"{path}:{line}"
        inner = match.group(1).strip()
        if inner[:1] in ("#", "^"):
            name = inner[1:].strip()
            _check_field_name(where, name, spec)
            open_sections.append((name, line))
        elif inner[:1] == "/":
            name = inner[1:].strip()
            if not open_sections or open_sections[-1][0] != name:
                raise CardsError(f"{where}: {{{{/{name}}}}} closes a section that is not open")
            open_sections.pop()
        else:
            *filters, name = (part.strip() for part in inner.split(":"))
            if name == "FrontSide":
                if front_side:
                    raise CardsError(f"{where}: {{{{FrontSide}}}} only works on the back side")
                continue
            uses_cloze = uses_cloze or "cloze" in filters
            _check_field_name(where, name, spec)
            uses_field = uses_field or name in fields
    if open_sections:
        name, line = open_sections[-1]
        raise CardsError(f"{path}:{line}: section {{{{#{name}}}}} is never closed")
    if front_side and not uses_field:
        raise CardsError(f"{path}: the front side shows no field, so Anki would make no card")
    if spec.is_cloze and not uses_cloze:
        raise CardsError(f"{path}: a cloze note type needs {{{{cloze:Text}}}} on both sides")
    if not spec.is_cloze and uses_cloze:
        raise CardsError(f"{path}: {{{{cloze:...}}}} only works in the Cloze note type")


def _check_field_name(where: str, name: str, spec: _Spec) -> None:
    if name not in _SPECIAL_FIELDS and all(field.name != name for field in spec.fields):
        names = ", ".join(field.name for field in spec.fields)
        raise CardsError(f"{where}: {spec.name} has no field {name!r} (its fields: {names})")
