"""Valid requests drawn from a contract: documents that pass an operation's request schema, with
every image field pointing at one of the mock's sample assets fit for its role and limits.

The drawing reads the JSON Schema subset the contracts use (const, enum, object properties and
required, object-level anyOf, arrays with items / prefixItems and an ``if minItems -> then``
rule, integers, booleans and strings). Every drawn document is then checked with the contract's
own validator, so the subset can only make drawing narrower, never let an invalid request through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from contracts.model import Contract, ImageInput, Operation, resolve_pointer
from contracts.verify import realistic

ASSET_SCHEME = "asset://"  # a scenario names an asset as asset://<name>; the run makes it a URL
BATCH_DEFAULT = 3  # batch size drawn at most when the contract gives no documented maximum
ARRAY_SPAN = 3  # arrays get at most minItems + this many items
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/bmp": "BMP"}
ROLE_ASSETS = {"image": "person"}  # a role whose assets are those of another role


@dataclass(frozen=True)
class Asset:
    """A sample image the mock serves, as ``GET /_mock/assets`` lists it."""

    name: str
    media_type: str
    width: int
    height: int
    role: str | None

    def fits(self, image: ImageInput) -> bool:
        limits = image.limits
        fmt = FORMATS.get(self.media_type)
        short, long = sorted((self.width, self.height))
        return (
            self.role == ROLE_ASSETS.get(image.role, image.role)
            and fmt is not None
            and (not limits.formats or fmt in limits.formats)
            and (limits.min_side is None or short >= limits.min_side)
            and (limits.max_side is None or long <= limits.max_side)
        )


OMIT = object()  # "leave this field out"


def merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Two schemas as one: properties merged recursively, required lists joined, the rest from b."""
    out = dict(a)
    for key, value in b.items():
        if key == "properties":
            props = dict(out.get("properties", {}))
            for name, sub in value.items():
                props[name] = merge(props.get(name, {}), sub)
            out["properties"] = props
        elif key == "required":
            out["required"] = [
                *out.get("required", []),
                *(r for r in value if r not in out.get("required", [])),
            ]
        else:
            out[key] = value
    return out


class RequestDrawer:
    """Draws a request for one operation: ``(document, images)`` where images maps each image's
    absolute JSON pointer in the document to the asset it names."""

    def __init__(self, contract: Contract, operation: Operation, assets: Sequence[Asset]) -> None:
        self.operation = operation
        self.schema = contract.schemas[operation.request_schema]
        self.validator = contract.validator(operation.request_schema)
        self.images = {i.pointer: i for i in operation.images}
        self.candidates = {i.pointer: [a.name for a in assets if a.fits(i)] for i in operation.images}
        self.sizes = {a.name: (a.width, a.height) for a in assets}
        self.batch = operation.batch_pointer
        self.batch_max = operation.batch_max or BATCH_DEFAULT
        self.named_at = contract.endpoint(operation.endpoint).operation_pointer
        # Fields that may get an image URL on another host (the mock's stand-in for the role):
        # not uploads, and not images whose size must match another's.
        uploads = contract.endpoint(operation.endpoint).request_content_type.startswith("multipart/")
        matched = {pointer for group in operation.same_size for pointer in group}
        self.remote = set() if uploads else {i.pointer for i in operation.images} - matched

    def strategy(self) -> st.SearchStrategy[tuple[Any, dict[str, str]]]:
        return _composite(self._draw)

    def _draw(self, draw: Draw) -> tuple[Any, dict[str, str]]:
        images: dict[str, str] = {}
        if self.batch == "":  # the request is a list of documents, each checked on its own
            count = draw(st.integers(1, self.batch_max))
            doc: Any = [self._value(draw, self.schema, f"/{i}", images) for i in range(count)]
            prefixes = [f"/{i}" for i in range(count)]
            assume(all(self.validator.is_valid(item) for item in materialize(doc, _sample_url)))
        else:
            doc = self._value(draw, self.schema, "", images)
            found = resolve_pointer(doc, self.batch) if self.batch else None
            prefixes = [f"{self.batch}/{i}" for i in range(len(found or []))] if self.batch else [""]
            assume(self.validator.is_valid(materialize(doc, _sample_url)))
        for prefix in prefixes:
            for group in self.operation.same_size:
                sizes = {self.sizes[images[prefix + p]] for p in group if prefix + p in images}
                assume(len(sizes) <= 1)
        return doc, images

    def _image(self, path: str) -> ImageInput | None:
        """The image input at ``path`` (absolute), whose contract pointer is item-relative in batches."""
        if self.batch is None:
            return self.images.get(path)
        prefix = self.batch + "/"
        index, _, tail = path[len(prefix) :].partition("/") if path.startswith(prefix) else ("", "", "")
        return self.images.get("/" + tail) if index.isdigit() and tail else None

    def _value(self, draw: Draw, schema: Mapping[str, Any], path: str, images: dict[str, str]) -> Any:
        if path == self.named_at:
            return self.operation.name
        image = self._image(path)
        if image is not None:
            return self._image_value(draw, image, path, images)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return draw(st.sampled_from(schema["enum"]))
        kind = schema.get("type") or ("object" if "properties" in schema else None)
        if kind == "object":
            return self._object(draw, schema, path, images)
        if kind == "array":
            return self._array(draw, schema, path, images)
        if kind == "integer":
            return draw(st.integers(schema.get("minimum", 0), schema.get("maximum", 10)))
        if kind == "boolean":
            return draw(st.booleans())
        if kind == "string" and not _is_link(schema):
            return _text(draw, schema)
        return OMIT

    def _image_value(self, draw: Draw, image: ImageInput, path: str, images: dict[str, str]) -> str:
        """A sample asset (``asset://name``), or where the field allows, half the time a
        production-like URL on another host (the mock's stand-in image for the role)."""
        options = self.candidates[image.pointer]
        assume(options)
        name: str = draw(st.sampled_from(options))
        if image.pointer in self.remote and draw(st.booleans()):
            return realistic.image_url(draw(st.integers(0, realistic.SEEDS - 1)), image.limits.ascii_url)
        images[path] = name
        return ASSET_SCHEME + name

    def _object(self, draw: Draw, schema: Mapping[str, Any], path: str, images: dict[str, str]) -> Any:
        if "anyOf" in schema:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            usable = [b for b in schema["anyOf"] if self._drawable(merge(rest, b), path)]
            assume(usable)
            schema = merge(rest, draw(st.sampled_from(usable)))
        required = set(schema.get("required", ()))
        out: dict[str, Any] = {}
        for name, sub in schema.get("properties", {}).items():
            if name not in required and not draw(st.booleans()):
                continue
            value = self._value(draw, sub, f"{path}/{name}", images)
            if value is OMIT:
                assume(name not in required)
                continue
            out[name] = value
        return out

    def _array(self, draw: Draw, schema: Mapping[str, Any], path: str, images: dict[str, str]) -> Any:
        low = schema.get("minItems", 0)
        count = draw(st.integers(low, min(schema.get("maxItems", low + ARRAY_SPAN), low + ARRAY_SPAN)))
        prefix: list[Mapping[str, Any]] = list(schema.get("prefixItems", ()))
        rule = schema.get("if", {})
        if set(rule) == {"minItems"} and count >= rule["minItems"]:
            prefix = list(schema.get("then", {}).get("prefixItems", prefix))
        items = schema.get("items", {})
        out = []
        for i in range(count):
            value = self._value(
                draw, merge(items, prefix[i]) if i < len(prefix) else items, f"{path}/{i}", images
            )
            assume(value is not OMIT)
            out.append(value)
        return out

    def _drawable(self, schema: Mapping[str, Any], path: str) -> bool:
        """Whether every required property of an object schema can be drawn (links only where
        an image goes)."""
        props = schema.get("properties", {})
        return not any(
            self._image(f"{path}/{name}") is None and _is_link(props.get(name, {}))
            for name in schema.get("required", ())
        )


Draw = Callable[..., Any]


def _composite(fn: Callable[[Draw], Any]) -> st.SearchStrategy[Any]:
    @st.composite
    def drawn(draw: Draw) -> Any:
        return fn(draw)

    return drawn()


def _text(draw: Draw, schema: Mapping[str, Any]) -> str:
    """Free text (names, companies, sentences in several scripts) where the schema leaves the
    string free; a plain word where it constrains it."""
    if {"pattern", "maxLength", "format"} & set(schema):
        return str(draw(WORD))
    return realistic.text(draw(st.integers(0, realistic.SEEDS - 1)))


def _sample_url(name: str) -> str:
    return f"http://127.0.0.1/_mock/assets/{name}"


def _is_link(schema: Mapping[str, Any]) -> bool:
    """A string that must be a link: the drawing gives links only to image fields (as assets)."""
    patterns = [schema.get("pattern", "")] + [b.get("pattern", "") for b in schema.get("anyOf", ())]
    return any("://" in p for p in patterns)


def materialize(doc: Any, asset_url: Callable[[str], str]) -> Any:
    """The document with every ``asset://name`` turned into the asset's URL on the mock."""
    if isinstance(doc, str):
        return asset_url(doc[len(ASSET_SCHEME) :]) if doc.startswith(ASSET_SCHEME) else doc
    if isinstance(doc, list):
        return [materialize(v, asset_url) for v in doc]
    if isinstance(doc, dict):
        return {k: materialize(v, asset_url) for k, v in doc.items()}
    return doc
