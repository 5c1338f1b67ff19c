"""``/api/docs``: the REST API's OpenAPI description as one self-contained HTML page.

FastAPI's own Swagger page loads its JavaScript and CSS from a CDN, so it is blank without
internet; this page has no script and loads nothing: every route with its summary, description,
request body fields, responses and the fields of their JSON, and a link to ``openapi.json``.
Everything taken from the description is escaped.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 60rem; padding: 1.5rem; color: #1f2937; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 0; }
h3 { font-size: .95rem; margin: 1rem 0 .25rem; }
.route { border: 1px solid #d1d5db; border-radius: 8px; padding: 1rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 3.5rem; text-align: center; border-radius: 4px;
          font: 600 .8rem/1.6 ui-monospace, monospace; color: #fff; background: #2563eb;
          margin-right: .5rem; }
.method.post { background: #059669; }
code, .path { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; border-top: 1px solid #e5e7eb; padding: .3rem .5rem; }
.muted { color: #6b7280; }
@media (prefers-color-scheme: dark) {
  body { color: #e5e7eb; background: #111827; } .route { border-color: #374151; }
  th, td { border-color: #374151; } .muted { color: #9ca3af; }
}
"""


def _text(value: Any) -> str:
    """Escaped text of the description, its `code` spans shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(str(value)))


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a local ``$ref`` (``#/components/schemas/X``) followed."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}
    return schema if isinstance(schema, dict) else {}


def _type(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    """A short type name: ``string``, ``array of Citation``, ``"high" | "low"``, ``X or null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type(s, spec) for s in schema["anyOf"] if isinstance(s, dict))
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type(schema.get('items') or {}, spec)}"
    return kind


def _fields(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    """The properties of an object schema as a table ("" when it has none)."""
    schema = _resolve(schema, spec)
    properties = schema.get("properties") or {}
    if not properties:
        return ""
    required = set(schema.get("required") or [])
    rows = []
    for name, prop in properties.items():
        prop = prop if isinstance(prop, dict) else {}
        need = "required" if name in required else "optional"
        rows.append(
            f"<tr><td><code>{escape(str(name))}</code></td><td><code>{escape(_type(prop, spec))}</code></td>"
            f"<td class='muted'>{need}</td><td>{_text(prop.get('description', ''))}</td></tr>"
        )
    return ("<table><tr><th>field</th><th>type</th><th></th><th>meaning</th></tr>"
            + "".join(rows) + "</table>")


def _json_schema(content: dict[str, Any]) -> dict[str, Any]:
    media = (content or {}).get("application/json") or {}
    return media.get("schema") or {} if isinstance(media, dict) else {}


def _route(method: str, path: str, op: dict[str, Any], spec: dict[str, Any], prefix: str) -> str:
    parts = [
        f"<section class='route' id='{escape(method)}{escape(path.replace('/', '-'))}'>"
        f"<h2><span class='method {escape(method)}'>{escape(method.upper())}</span>"
        f"<span class='path'>{escape(prefix + path)}</span></h2>"
    ]
    if op.get("summary"):
        parts.append(f"<p><b>{_text(op['summary'])}</b></p>")
    if op.get("description"):
        parts.append(f"<p>{_text(op['description'])}</p>")
    body = op.get("requestBody") or {}
    if body:
        schema = _json_schema(body.get("content") or {})
        fields = _fields(schema, spec) or "<p class='muted'>any JSON</p>"
        parts.append("<h3>Request body (JSON)</h3>" + fields)
    responses = op.get("responses") or {}
    if responses:
        parts.append("<h3>Responses</h3><table><tr><th>status</th><th>meaning</th></tr>")
        for status, response in responses.items():
            response = response if isinstance(response, dict) else {}
            parts.append(f"<tr><td><code>{escape(str(status))}</code></td>"
                         f"<td>{_text(response.get('description', ''))}</td></tr>")
        parts.append("</table>")
        for status, response in responses.items():
            fields = _fields(_json_schema((response or {}).get("content") or {}), spec)
            if fields:
                parts.append(f"<h3>Fields of the {escape(str(status))} response</h3>{fields}")
    parts.append("</section>")
    return "".join(parts)


def api_docs_html(spec: dict[str, Any], prefix: str = "") -> str:
    """The page for the OpenAPI description ``spec``; ``prefix`` is where the API is mounted
    (``/api``), put before each path."""
    info = spec.get("info") or {}
    title = str(info.get("title") or "API")
    routes = []
    for path, operations in (spec.get("paths") or {}).items():
        for method, op in (operations or {}).items():
            if isinstance(op, dict):
                routes.append(_route(str(method), str(path), op, spec, prefix))
    types = []
    for name, schema in ((spec.get("components") or {}).get("schemas") or {}).items():
        fields = _fields(schema, spec) if isinstance(schema, dict) else ""
        if fields:
            types.append(f"<h3 id='type-{escape(str(name))}'><code>{escape(str(name))}</code></h3>{fields}")
    if types:
        routes.append("<section class='route'><h2>Types</h2>" + "".join(types) + "</section>")
    lead = " ".join(str(info.get(key) or "") for key in ("summary", "description")).strip()
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}: REST API</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}: REST API</h1>"
        f"<p class='muted'>version {escape(str(info.get('version', '')))} · "
        f"the OpenAPI description: <a href='openapi.json'>openapi.json</a></p>"
        + (f"<p>{escape(lead)}</p>" if lead else "")
        + "".join(routes)
        + "</body></html>"
    )
