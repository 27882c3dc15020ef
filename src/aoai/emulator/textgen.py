"""Deterministic stand-in for a model: the same input always yields the same text, split into
token-sized pieces.

Nothing here is random across runs: a SHA-256 of the prompt seeds ``random.Random``, so tests and
demos can compare outputs byte for byte. The tokenizer is a regular expression that cuts words into
pieces of at most eight letters, numbers into groups of three digits, and punctuation into single
characters, each piece keeping its leading space. It is not any real model's tokenizer; it is only
stable and roughly as fine-grained as one (about 1.3 pieces per English word), which is what token
usage figures and stream pacing need.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

_TOKEN_RE = re.compile(r"\s*(?:[A-Za-z]{1,8}|\d{1,3}|[^\sA-Za-z\d])|\s+")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")

_STOP = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "also",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "itself",
        "just",
        "more",
        "most",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "yours",
        "please",
        "tell",
        "give",
        "write",
        "explain",
        "describe",
        "define",
        "make",
    ]
)

_OPENERS = (
    "Here is a short answer about {t}.",
    "Let me walk through {t} step by step.",
    "Good question about {t}.",
    "In short, {t} comes down to a few ideas.",
    "Thinking about {t}, three points stand out.",
)
_SENTENCES = (
    "The key idea is that {a} {v} {o} when {c}.",
    "In practice, {a} usually {v} {o}, especially when {c}.",
    "A common mistake is to assume that {a} always {v} {o}.",
    "It helps to remember that {a} {v} {o} only when {c}.",
    "For {t}, {a} {v} {o} and that keeps things predictable.",
    "Most teams find that {a} {v} {o} once {c}.",
    "Seen from a distance, {a} {v} {o}.",
    "That is why {a} {v} {o} before {c}.",
)
_SUBJECTS = (
    "the system",
    "a careful design",
    "the first step",
    "each component",
    "the main loop",
    "a clear plan",
    "the final result",
    "every request",
    "the simplest option",
    "a small change",
    "the underlying model",
    "the user",
    "a good default",
    "the whole process",
)
_VERBS = (
    "shapes",
    "improves",
    "depends on",
    "simplifies",
    "protects",
    "changes",
    "supports",
    "reveals",
    "balances",
    "connects",
    "limits",
    "explains",
    "reuses",
    "measures",
)
_OBJECTS = (
    "the outcome",
    "the overall cost",
    "later decisions",
    "the feedback loop",
    "its reliability",
    "the edge cases",
    "how fast it responds",
    "the quality of the answer",
    "the shared state",
    "what happens next",
    "the amount of work",
    "the available capacity",
)
_CONDITIONS = (
    "the inputs are stable",
    "the load grows",
    "time is short",
    "the context is long",
    "errors appear",
    "the requirements change",
    "several parts interact",
    "the data is incomplete",
    "nobody is watching",
)
_CLOSERS = (
    "I hope this helps.",
    "Let me know if you want more detail.",
    "That covers the essentials.",
    "Feel free to ask a follow-up question.",
)


def tokenize(text: str) -> list[str]:
    """Split text into token-sized pieces whose concatenation is exactly ``text``."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """Number of pieces ``tokenize`` would produce (whitespace-only runs count too)."""
    return sum(1 for _ in _TOKEN_RE.finditer(text))


def _seed(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def _topic(prompt: str) -> str:
    words: list[str] = []
    for word in _WORD_RE.findall(prompt):
        lowered = word.lower().strip("'-")
        if lowered not in _STOP and lowered not in words:
            words.append(lowered)
        if len(words) == 3:
            break
    return " ".join(words) if words else "your question"


def _sentence(rng: random.Random, topic: str) -> str:
    template = rng.choice(_SENTENCES)
    return template.format(
        t=topic,
        a=rng.choice(_SUBJECTS),
        v=rng.choice(_VERBS),
        o=rng.choice(_OBJECTS),
        c=rng.choice(_CONDITIONS),
    )


def _natural_sentences(rng: random.Random, prompt: str, instructions: str) -> int:
    wish = (prompt + " " + instructions).lower()
    if any(word in wish for word in ("one sentence", "briefly", "brief", "concise", "one word", "short answer")):
        return 1
    if any(word in wish for word in ("long", "essay", "story", "detailed", "in depth", "1000")):
        return rng.randint(10, 14)
    return rng.randint(3, 5)


def generate(
    prompt: str,
    *,
    instructions: str = "",
    context: str = "",
    exact_tokens: int | None = None,
    json_schema: dict[str, Any] | None = None,
    json_mode: bool = False,
) -> list[str]:
    """The output text for this prompt, as token pieces.

    ``prompt`` is the latest user text (it picks the topic), ``context`` everything else the model
    sees (it only perturbs the seed, so a chained turn answers differently from a fresh one).
    ``exact_tokens`` forces exactly that many pieces (the text is cut mid-sentence if need be).
    ``json_mode`` / ``json_schema`` produce a JSON document instead of prose.
    """
    rng = random.Random(_seed(prompt, instructions, context))
    topic = _topic(prompt)
    if exact_tokens is not None:
        pieces: list[str] = []
        text = rng.choice(_OPENERS).format(t=topic)
        pieces.extend(tokenize(text))
        while len(pieces) < exact_tokens:
            pieces.extend(tokenize(" " + _sentence(rng, topic)))
        return pieces[:exact_tokens]
    count = _natural_sentences(rng, prompt, instructions)
    if count == 1:
        sentences = [_sentence(rng, topic)]
    else:
        sentences = [rng.choice(_OPENERS).format(t=topic)] + [_sentence(rng, topic) for _ in range(count - 1)]
    if count > 3:
        sentences.append(rng.choice(_CLOSERS))
    prose = " ".join(sentences)
    if json_schema is not None or json_mode:
        document = _fill_schema(json_schema or {}, rng, topic, prose)
        return tokenize(json.dumps(document, ensure_ascii=False))
    return tokenize(prose)


def _fill_schema(schema: dict[str, Any], rng: random.Random, topic: str, prose: str, depth: int = 0) -> Any:
    """A value that fits a (simple) JSON schema: objects, arrays, strings, numbers, booleans, enums."""
    if depth > 6:
        return None
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    for_any = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(for_any, list) and for_any and isinstance(for_any[0], dict):
        return _fill_schema(for_any[0], rng, topic, prose, depth + 1)
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            return {"answer": prose} if depth == 0 else {}
        return {
            name: _fill_schema(sub if isinstance(sub, dict) else {}, rng, topic, prose, depth + 1)
            for name, sub in properties.items()
        }
    if kind == "array":
        items = schema.get("items")
        item_schema = items if isinstance(items, dict) else {}
        return [_fill_schema(item_schema, rng, topic, prose, depth + 1) for _ in range(2)]
    if kind == "integer":
        return rng.randint(1, 100)
    if kind == "number":
        return round(rng.uniform(0, 100), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if depth == 0:
        return {"answer": prose}
    return _sentence(rng, topic)
