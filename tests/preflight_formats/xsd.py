"""A small validator for the XSD constructs the Ant JUnit schema uses (lxml is not a dependency).

Covers what JUnit.xsd declares: global elements and named complex/simple types; sequences and
choices of element particles with minOccurs/maxOccurs; complexContent extension (the aggregated
``testsuite`` adds ``package`` and ``id``); simpleContent extension (text plus attributes);
attribute ``use="required"``; no undeclared attributes; the value types xs:int, xs:decimal,
xs:token with minLength, and the timestamp pattern. Anything else in a schema raises, so a schema
change that this validator does not understand cannot pass silently.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

XS = "{http://www.w3.org/2001/XMLSchema}"


@dataclass
class Attribute:
    name: str
    required: bool
    check: Facets


@dataclass
class Facets:
    base: str = "xs:string"
    pattern: str | None = None
    min_length: int | None = None

    def validate(self, value: str, where: str) -> list[str]:
        errors: list[str] = []
        if self.base == "xs:int":
            if not re.fullmatch(r"[+-]?\d+", value.strip()):
                errors.append(f"{where}: {value!r} is not an xs:int")
        elif self.base == "xs:decimal":
            try:
                Decimal(value.strip())
            except InvalidOperation:
                errors.append(f"{where}: {value!r} is not an xs:decimal")
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value.strip()):
                errors.append(f"{where}: {value!r} is not an xs:decimal")
        elif self.base == "xs:dateTime" and not re.fullmatch(
            r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", value
        ):
            errors.append(f"{where}: {value!r} is not an xs:dateTime")
        token = " ".join(value.split()) if self.base == "xs:token" else value
        if self.min_length is not None and len(token) < self.min_length:
            errors.append(f"{where}: {value!r} shorter than {self.min_length}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            errors.append(f"{where}: {value!r} does not match {self.pattern}")
        return errors


@dataclass
class Particle:
    kind: str  # "element" | "sequence" | "choice"
    min: int
    max: int | None  # None = unbounded
    element: ElementDecl | None = None
    items: list[Particle] = field(default_factory=list)


@dataclass
class ElementDecl:
    name: str
    attributes: dict[str, Attribute] = field(default_factory=dict)
    content: Particle | None = None  # None: no child elements
    text: Facets | None = None  # simple content


class Schema:
    def __init__(self, path: Path) -> None:
        self.root = ET.parse(path).getroot()
        self.complex = {t.get("name"): t for t in self.root.findall(f"{XS}complexType")}
        self.simple = {t.get("name"): t for t in self.root.findall(f"{XS}simpleType")}
        self.globals = {e.get("name"): e for e in self.root.findall(f"{XS}element")}

    # ---- schema reading ----
    def facets(self, node: ET.Element | None, type_name: str | None) -> Facets:
        if type_name is not None:
            if type_name.startswith("xs:"):
                return Facets(base=type_name)
            node = self.simple[type_name]
        if node is None:
            return Facets()
        restriction = node.find(f"{XS}restriction")
        if restriction is None:
            raise NotImplementedError(f"simpleType without restriction: {ET.tostring(node)[:80]!r}")
        facets = self.facets(None, restriction.get("base"))
        for child in restriction:
            tag = child.tag.removeprefix(XS)
            if tag == "pattern":
                facets.pattern = child.get("value")
            elif tag == "minLength":
                facets.min_length = int(child.get("value", "0"))
            elif tag == "whiteSpace":
                pass
            else:
                raise NotImplementedError(f"facet {tag}")
        return facets

    def attribute(self, node: ET.Element) -> Attribute:
        simple = node.find(f"{XS}simpleType")
        return Attribute(node.get("name", ""), node.get("use") == "required", self.facets(simple, node.get("type")))

    def particle(self, node: ET.Element) -> Particle:
        tag = node.tag.removeprefix(XS)
        low = int(node.get("minOccurs", "1"))
        high_text = node.get("maxOccurs", "1")
        high = None if high_text == "unbounded" else int(high_text)
        if tag == "element":
            return Particle("element", low, high, element=self.element(node))
        if tag in ("sequence", "choice"):
            return Particle(
                tag, low, high, items=[self.particle(child) for child in node if child.tag != f"{XS}annotation"]
            )
        raise NotImplementedError(f"particle {tag}")

    def complex_type(self, decl: ElementDecl, node: ET.Element) -> None:
        for child in node:
            tag = child.tag.removeprefix(XS)
            if tag == "annotation":
                continue
            if tag in ("sequence", "choice"):
                decl.content = self.particle(child)
            elif tag == "attribute":
                attr = self.attribute(child)
                decl.attributes[attr.name] = attr
            elif tag == "complexContent":
                extension = child.find(f"{XS}extension")
                assert extension is not None
                self.complex_type(decl, self.complex[extension.get("base")])
                self.complex_type(decl, extension)
            elif tag == "simpleContent":
                extension = child.find(f"{XS}extension")
                assert extension is not None
                decl.text = self.facets(None, extension.get("base"))
                self.complex_type(decl, extension)
            else:
                raise NotImplementedError(f"complexType child {tag}")

    def element(self, node: ET.Element) -> ElementDecl:
        decl = ElementDecl(node.get("name", ""))
        type_name = node.get("type")
        inline_complex = node.find(f"{XS}complexType")
        inline_simple = node.find(f"{XS}simpleType")
        if type_name in self.complex:
            self.complex_type(decl, self.complex[type_name])
        elif inline_complex is not None:
            self.complex_type(decl, inline_complex)
        else:
            decl.text = self.facets(inline_simple, type_name)
        return decl

    # ---- instance validation ----
    def validate(self, document: ET.Element) -> list[str]:
        if document.tag not in self.globals:
            return [f"root element {document.tag} is not declared"]
        return self.check(document, self.element(self.globals[document.tag]), document.tag)

    def check(self, node: ET.Element, decl: ElementDecl, path: str) -> list[str]:
        errors: list[str] = []
        for name, attr in decl.attributes.items():
            if name not in node.attrib:
                if attr.required:
                    errors.append(f"{path}: missing required attribute {name}")
                continue
            errors += attr.check.validate(node.attrib[name], f"{path}/@{name}")
        errors += [f"{path}: undeclared attribute {name}" for name in node.attrib if name not in decl.attributes]
        children = list(node)
        if decl.content is None:
            if children:
                errors.append(f"{path}: no child elements allowed, found {children[0].tag}")
            if decl.text is not None:
                errors += decl.text.validate(node.text or "", f"{path}/text()")
            return errors
        if (node.text or "").strip():
            errors.append(f"{path}: text not allowed")
        matched = self.match(decl.content, children, 0)
        if matched is None or matched[0] != len(children):
            at = matched[0] if matched else 0
            found = children[at].tag if at < len(children) else "end of element"
            errors.append(f"{path}: content does not match the schema at child {at} ({found})")
            return errors
        for child, child_decl in matched[1]:
            errors += self.check(child, child_decl, f"{path}/{child.tag}")
        return errors

    def match(
        self, particle: Particle, children: list[ET.Element], at: int
    ) -> tuple[int, list[tuple[ET.Element, ElementDecl]]] | None:
        """Greedy match of ``particle`` from ``children[at]``: (next index, matched pairs) or None."""
        pairs: list[tuple[ET.Element, ElementDecl]] = []
        count = 0
        while particle.max is None or count < particle.max:
            step = self.match_once(particle, children, at)
            if step is None or (step[0] == at and count >= particle.min):
                break
            at, more = step
            pairs += more
            count += 1
        return (at, pairs) if count >= particle.min else None

    def match_once(
        self, particle: Particle, children: list[ET.Element], at: int
    ) -> tuple[int, list[tuple[ET.Element, ElementDecl]]] | None:
        if particle.kind == "element":
            assert particle.element is not None
            if at < len(children) and children[at].tag == particle.element.name:
                return at + 1, [(children[at], particle.element)]
            return None
        if particle.kind == "sequence":
            pairs: list[tuple[ET.Element, ElementDecl]] = []
            for item in particle.items:
                step = self.match(item, children, at)
                if step is None:
                    return None
                at, more = step
                pairs += more
            return at, pairs
        for item in particle.items:  # choice: the first alternative that consumes something
            step = self.match(item, children, at)
            if step is not None and step[0] > at:
                return step
        return None
