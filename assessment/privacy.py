"""Masking personal data (contract §2 ``--mask-pii``): by column for tables, by value for files.

Two layers:

* Column helpers (:func:`mask_email`, :func:`mask_name`, :func:`mask_frame`) mask the tables a
  notebook shows, by what a column holds.
* Masking by value (:func:`personal_values`, :func:`mask_folder`): the set of personal values
  loaded from the exports (emails and usernames, person names of prospects, leads, contacts,
  person accounts, Salesforce and Pardot users and owners, phone numbers, street addresses) is
  applied to every file of an output folder, whatever the column or sentence a value sits in:
  a cell equal to a personal value is masked whole; any email-shaped text is masked; any word of
  a person's name inside free text (messages, reasons, report prose) is masked. Record ids,
  company names (unless a company is named like a person) and counts are kept. Tables are masked
  column-wise with pyarrow (hash lookups and RE2 regexes, no per-row Python), free text in the
  few cells or pages that hold a hit.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .normalize import plain_text

# ---------------------------------------------------------------------------------------------
# column helpers (used by the report and the notebooks)

_EMAIL_RE = re.compile(
    r"(?P<l>[A-Za-z0-9_%+'!#$&/=?^`{|}~-])[A-Za-z0-9._%+'!#$&/=?^`{|}~-]*"  # no "*": idempotent
    r"@(?P<d>[A-Za-z0-9-])[A-Za-z0-9.-]*?(?P<t>\.[A-Za-z0-9-]+)?(?![A-Za-z0-9.-])"
)
_NAME_RE = re.compile(r"(\w)[\w'’-]*", re.UNICODE)
NAME_COLUMNS = {
    "first_name",
    "last_name",
    "name",
    "full_name",
    "firstname",
    "lastname",
    "salutation",
    "person_name",
    "contact_name",
    "lead_name",
}
EMAIL_COLUMNS = {"email", "person_email", "email_key", "person_email_key", "username", "user_email"}


def _email_repl(m: re.Match) -> str:
    return f"{m['l']}***@{m['d']}***{m['t'] or ''}"


def mask_email(values: pd.Series) -> pd.Series:
    """Mask emails as ``j***@e***.com``; a value that is not an email keeps only its first letter."""
    text = values.astype("str")
    masked = text.str.replace(_EMAIL_RE, _email_repl, regex=True)
    no_email = ~text.str.contains("@", regex=False).fillna(False)
    masked = masked.where(~no_email, text.str.slice(0, 1) + "***")
    return masked.where(values.notna() & (text != ""), values.astype("str"))


def mask_name(values: pd.Series) -> pd.Series:
    """Mask every word of a name to its first letter: ``John Smith`` → ``J*** S***``."""
    text = values.astype("str")
    return text.str.replace(_NAME_RE, r"\1***", regex=True)


def mask_text(values: pd.Series) -> pd.Series:
    """Mask email addresses that appear inside free text (messages, reasons)."""
    return values.astype("str").str.replace(_EMAIL_RE, _email_repl, regex=True)


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a findings / outcomes table with emails and names masked in every column."""
    out = frame.copy()
    name_fields = None
    field_col = next((c for c in out.columns if str(c).strip().lower() == "field"), None)
    if field_col is not None:  # a "value" of a name field is a name
        keys = out[field_col].astype("str").str.lower().str.replace(r"[^a-z0-9]", "", regex=True)
        name_fields = keys.isin({k.replace("_", "") for k in NAME_COLUMNS}).fillna(False)
    for col in out.columns:
        key = re.sub(r"[^a-z0-9]", "_", str(col).lower()).strip("_")
        series = out[col]
        if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
            continue
        if key in EMAIL_COLUMNS or key.endswith("email"):
            out[col] = mask_email(series)
        elif key in NAME_COLUMNS or key.replace("_", "") in NAME_COLUMNS:
            out[col] = mask_name(series)
        else:
            masked = mask_text(series)
            if key == "value" and name_fields is not None:
                masked = masked.where(~name_fields, mask_name(series))
            out[col] = masked
    return out


# ---------------------------------------------------------------------------------------------
# the personal values of one org

# Canonical columns (schema.py) whose values are personal, by kind.
EMAIL_VALUE_COLUMNS = {
    "email",
    "email_key",
    "person_email",
    "person_email_key",
    "username",
    "owner_username",
    "salesforce_username",
    "assigned_user",
}
NAME_VALUE_COLUMNS = {"first_name", "last_name", "name", "owner_name", "full_name"}
_PHONE_COLUMN = re.compile(r"phone|fax|mobile")
_STREET_COLUMN = re.compile(r"street|^address_(one|two)$|^address$")
# Words that stand in exports for a missing name ("[not provided]") and words any report uses:
# never masked inside free text (a cell equal to such a value is still masked whole).
_NOT_NAME_WORDS = {
    "not",
    "provided",
    "unknown",
    "none",
    "null",
    "nan",
    "test",
    "the",
    "and",
    "of",
    "to",
    "in",
    "no",
    "yes",
    "true",
    "false",
    # Salesforce's own users ("Automated Process", "Platform Integration User", "Security User",
    # "Chatter Expert", site guest users) are not people, and their words are the report's
    # vocabulary ("the integration user"). A name that is also a word here is still masked
    # by its other words ("B2BMA Integration" -> "B*** Integration").
    "integration",
    "user",
    "users",
    "process",
    "automated",
    "platform",
    "security",
    "chatter",
    "expert",
    "guest",
    "site",
    "connector",
    "system",
    "admin",
    "api",
}
# RE2 (pyarrow) and Python forms of the same patterns.
_EMAIL_RE2 = (
    r"([A-Za-z0-9_%+'!#$&/=?^`{|}~-])[A-Za-z0-9._%+'!#$&/=?^`{|}~-]*"
    r"@([A-Za-z0-9-])(?:[A-Za-z0-9.-]*(\.[A-Za-z0-9-]+)|[A-Za-z0-9-]*)"
)
_EMAIL_PY = re.compile(_EMAIL_RE2)
_EMAIL_MASK = r"\1***@\2***\3"
_WORD_RE2 = r"([\p{L}\p{N}])[\p{L}\p{N}_]*"
_WORD_PY = re.compile(r"([^\W_])[^\W]*")
_NON_WORD_RE2 = r"[^\p{L}\p{N}_]+"
_CHUNK_PY = re.compile(r"[^\s,;<>\"(){}\[\]|]+")
_FORMULA_START = r"^[=+\-@\t\r]"


@dataclass
class PersonalValues:
    """The personal values of one org: whole values (``exact``) and words of names (``words``)."""

    exact: pa.Array
    words: pa.Array

    def __len__(self) -> int:
        return len(self.exact)


def _arrow(series: pd.Series) -> pa.Array:
    arr = pa.array(series)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pc.cast(arr, pa.string())


def _texts(frame: pd.DataFrame, column: str, keep=None) -> list[pa.Array]:
    series = frame[column]
    if keep is not None:
        series = series[keep]
    arr = pc.unique(_arrow(plain_text(series).dropna()))
    return [arr, pc.utf8_trim_whitespace(arr)]


def _person_rows(name: str, frame: pd.DataFrame):
    """Rows of ``frame`` that are people (business accounts are companies: their names stay)."""
    if name != "sf_accounts":
        return None
    flag = frame.get("is_person_account")
    if flag is None:
        return pd.Series(False, index=frame.index)
    return flag.astype("str").str.strip().str.lower().isin(["true", "1", "yes"]).fillna(False)


def _table_values(name: str, frame: pd.DataFrame) -> tuple[list, list]:
    """(whole values, name values) of one loaded table."""
    people = _person_rows(name, frame)
    exact, names = [], []
    for col in frame.columns:
        key = str(col).lower()
        if key in EMAIL_VALUE_COLUMNS or _PHONE_COLUMN.search(key) or _STREET_COLUMN.search(key):
            exact += _texts(frame, col)
        elif key in NAME_VALUE_COLUMNS:
            names += _texts(frame, col, keep=people if key == "name" else None)
    if {"first_name", "last_name"} <= set(frame.columns):
        full = plain_text(frame["first_name"]) + " " + plain_text(frame["last_name"])
        names += [pc.unique(_arrow(full.dropna()))]
    return exact, names


def _queue_names(snapshot) -> set[str]:
    """Queue names (lower-cased): a prospect's assigned "user" can be a queue, not a person."""
    queues = snapshot.tables.get("sf_queues")
    if not isinstance(queues, pd.DataFrame) or queues.empty:
        return set()
    names = pd.concat([queues.get("name", pd.Series()), queues.get("developer_name", pd.Series())])
    return {str(v).strip().lower() for v in names.dropna().unique()}  # a handful of queues


def personal_values(snapshot) -> PersonalValues:
    """Every email, person name, phone number and street address loaded from the exports."""
    exact, names = [], []
    for name, frame in sorted(snapshot.tables.items()):
        if isinstance(frame, pd.DataFrame) and not frame.empty:
            e, n = _table_values(name, frame)
            exact += e
            names += n
    empty = pa.array([], type=pa.string())
    all_names = pc.unique(pa.concat_arrays(names)) if names else empty
    whole = pa.concat_arrays([*exact, all_names]) if exact or names else empty
    whole = pc.unique(whole.filter(pc.greater_equal(pc.utf8_length(whole), 2)))
    stop = pa.array(sorted(_NOT_NAME_WORDS | _queue_names(snapshot)))
    whole = whole.filter(pc.invert(pc.is_in(pc.utf8_lower(whole), value_set=stop)))
    all_names = all_names.filter(pc.invert(pc.is_in(pc.utf8_lower(all_names), value_set=stop)))
    words = pc.list_flatten(pc.split_pattern_regex(all_names, _NON_WORD_RE2))
    words = pc.unique(words)
    keep = pc.and_(
        pc.greater_equal(pc.utf8_length(words), 2),
        pc.match_substring_regex(words, r"\p{L}"),
    )
    keep = pc.and_(
        keep, pc.invert(pc.is_in(pc.utf8_lower(words), pa.array(sorted(_NOT_NAME_WORDS))))
    )
    return PersonalValues(exact=whole, words=words.filter(keep))


# ---------------------------------------------------------------------------------------------
# masking text by value


def _present(values: pa.Array, cells: pa.Array) -> pa.Array:
    """The values that occur among ``cells`` (hash the cells, probe the values once)."""
    if len(values) == 0 or len(cells) == 0:
        return values.slice(0, 0)
    return values.filter(pc.is_in(values, value_set=pc.unique(cells)))


def _mask_whole(cells: pa.Array) -> pa.Array:
    """A whole personal value, masked: an email as ``j***@e***.com``, else word by word."""
    is_email = pc.match_substring_regex(cells, "^" + _EMAIL_RE2 + "$")
    emails = pc.replace_substring_regex(cells, _EMAIL_RE2, _EMAIL_MASK)
    words = pc.replace_substring_regex(cells, _WORD_RE2, r"\1***")
    masked = pc.if_else(is_email, emails, words)
    risky = pc.match_substring_regex(masked, _FORMULA_START)  # never make a formula
    return pc.if_else(risky, pc.binary_join_element_wise("'", masked, ""), masked)


def _mask_free_text(text: str, exact: set[str], words: set[str]) -> str:
    """Mask personal values, emails and name words inside one free text."""
    text = _EMAIL_PY.sub(_EMAIL_MASK, text)

    def word(m: re.Match) -> str:
        return m[1] + "***" if m[0] in words else m[0]

    def chunk(m: re.Match) -> str:
        token = m[0]
        core = token.strip(".:!?'’")
        if core in exact:
            masked = _WORD_PY.sub(r"\1***", core)
            return token.replace(core, masked)
        return _WORD_PY.sub(word, token)

    return _CHUNK_PY.sub(chunk, text)


def _on(cells: pa.Array, where: pa.Array, function) -> pa.Array:
    """``cells`` with ``function`` applied to the cells ``where`` is true only."""
    if not pc.any(where).as_py():
        return cells
    return pc.replace_with_mask(cells, where, function(cells.filter(where)))


def _email_masked(cells: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(cells, _EMAIL_RE2, _EMAIL_MASK)


def mask_cells(cells: pa.Array, values: PersonalValues) -> pa.Array:
    """Mask personal data in every text cell (vectorised; Python only for cells with a hit).

    Masking is a function of the cell's text alone, so it runs once per distinct text.
    """
    cells = pc.cast(cells, pa.string())
    if len(cells) == 0:
        return cells
    encoded = pc.dictionary_encode(pc.fill_null(cells, ""))
    out = _mask_distinct(encoded.dictionary, values).take(encoded.indices)
    return pc.if_else(pc.is_null(cells), cells, out)


def _mask_distinct(filled: pa.Array, values: PersonalValues) -> pa.Array:
    """Masked forms of distinct, non-null cell texts."""
    key = pc.utf8_trim_whitespace(pc.utf8_ltrim(filled, characters="'"))
    whole = pc.is_in(key, value_set=_present(values.exact, key))
    out = pc.if_else(whole, key, filled)
    out = _on(out, whole, _mask_whole)
    out = _on(out, pc.and_(pc.invert(whole), pc.match_substring(out, "@")), _email_masked)
    # Free text: a cell with a separator may hold a name word or a whole value among others.
    texty = pc.and_(pc.invert(whole), pc.match_substring_regex(out, _NON_WORD_RE2))
    if pc.any(texty).as_py():
        rows = pc.indices_nonzero(texty)
        subset = out.take(rows)
        tokens = pc.split_pattern_regex(subset, _NON_WORD_RE2)
        chunks = pc.split_pattern_regex(subset, r"[\s,;<>\"(){}\[\]|]+")
        flat_chunks = pc.utf8_trim(pc.list_flatten(chunks), ".:!?'’")
        words = _present(values.words, pc.list_flatten(tokens))
        parts = _present(values.exact, flat_chunks)
        hit = pc.or_(
            _any_in(pc.list_flatten(tokens), pc.list_parent_indices(tokens), len(subset), words),
            _any_in(flat_chunks, pc.list_parent_indices(chunks), len(subset), parts),
        )
        if pc.any(hit).as_py():
            exact_set, word_set = set(parts.to_pylist()), set(words.to_pylist())
            hit_rows = rows.filter(hit)
            texts = out.take(hit_rows).to_pylist()
            fixed = [_mask_free_text(t, exact_set, word_set) for t in texts]
            out = _put(out, hit_rows, fixed)
    return out


def _any_in(flat: pa.Array, parents: pa.Array, n: int, value_set: pa.Array) -> pa.Array:
    """Per list of ``n`` (flattened to ``flat`` with ``parents``): any element in ``value_set``?"""
    hit = np.zeros(n, dtype=bool)
    if len(value_set):
        found = pc.is_in(flat, value_set=value_set)
        hit[parents.filter(found).to_numpy()] = True
    return pa.array(hit)


def _put(array: pa.Array, rows: pa.Array, values: list[str]) -> pa.Array:
    """``array`` with ``values`` at positions ``rows`` (vectorised scatter)."""
    mask = np.zeros(len(array), dtype=bool)
    mask[rows.to_numpy()] = True
    return pc.replace_with_mask(array, pa.array(mask), pa.array(values, type=pa.string()))


def mask_strings(texts: list[str], values: PersonalValues) -> list[str]:
    """Mask a list of Python strings (JSON leaves, page segments)."""
    if not texts:
        return texts
    return mask_cells(pa.array(texts, type=pa.string()), values).to_pylist()


# ---------------------------------------------------------------------------------------------
# masking the files of an output folder


def _mask_csv(path: Path, values: PersonalValues) -> None:
    import pyarrow.csv as pv

    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    if not body.strip():
        return
    with path.open("rb") as handle:
        header = next(csv.reader([handle.readline().decode("utf-8-sig")]))
    table = pv.read_csv(
        path,
        read_options=pv.ReadOptions(
            column_names=[f"c{i}" for i in range(len(header))], skip_rows=1
        ),
        parse_options=pv.ParseOptions(newlines_in_values=True),
        convert_options=pv.ConvertOptions(
            column_types={f"c{i}": pa.string() for i in range(len(header))},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if table.num_rows == 0:
        return
    cells = pa.concat_arrays([c.combine_chunks() for c in table.columns])
    masked = mask_cells(cells, values)
    n = table.num_rows
    columns = [masked.slice(i * n, n) for i in range(len(header))]
    if all(c.equals(o.combine_chunks()) for c, o in zip(columns, table.columns, strict=True)):
        return  # nothing personal in this file
    quoting = csv.QUOTE_ALL if body.startswith(b'"') else csv.QUOTE_MINIMAL
    tmp = path.with_name(f".{path.name}.masking")
    with tmp.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, quoting=quoting, lineterminator="\n").writerow(header)
    with tmp.open("ab") as handle:  # every masked cell quoted: the same values to any reader
        pv.write_csv(
            pa.table(columns, names=[f"c{i}" for i in range(len(header))]),
            handle,
            pv.WriteOptions(include_header=False),
        )
    tmp.replace(path)


def _leaves(node, skip) -> list:
    """(container, key) of every string leaf of a JSON value, except under keys ``skip`` takes."""
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for k, v in pairs:
            if isinstance(k, str) and skip(k):
                continue
            if isinstance(v, str):
                found.append((item, k))
            elif isinstance(v, (dict, list)):
                stack.append(v)
    return found


def _rekey(node, names: dict):
    """``node`` with every dict key renamed through ``names``."""
    if isinstance(node, dict):
        return {names.get(k, k): _rekey(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_rekey(v, names) for v in node]
    return node


def _keys(node) -> set[str]:
    found, stack = set(), [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found |= {k for k in item if isinstance(k, str)}
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return found


def _mask_json(path: Path, values: PersonalValues, indent: int, keys: bool = True) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    leaves = _leaves(data, lambda k: k.startswith("image/") or k == "application/pdf")
    masked = mask_strings([c[k] for c, k in leaves], values)
    for (container, key), text in zip(leaves, masked, strict=True):
        container[key] = text
    if keys:  # a key can be a value too (counts per owner, per email)
        names = sorted(_keys(data))
        renamed = dict(zip(names, mask_strings(names, values), strict=True))
        data = _rekey(data, {k: v for k, v in renamed.items() if k != v})
    tmp = path.with_name(f".{path.name}.masking")
    tmp.write_text(json.dumps(data, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


_DATA_URI = re.compile(r"(data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+)")


def _mask_page(path: Path, values: PersonalValues) -> None:
    """Mask an HTML (or any text) page; embedded base64 images are left as they are."""
    parts = _DATA_URI.split(path.read_text(encoding="utf-8", errors="surrogateescape"))
    texts = parts[0::2]
    parts[0::2] = mask_strings(texts, values)
    tmp = path.with_name(f".{path.name}.masking")
    tmp.write_text("".join(parts), encoding="utf-8", errors="surrogateescape")
    tmp.replace(path)


def mask_file(path: Path, values: PersonalValues) -> None:
    """Mask one output file in place by its kind (CSV, JSON, notebook, page or other text)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _mask_csv(path, values)
    elif suffix == ".json":
        _mask_json(path, values, indent=2)
    elif suffix == ".ipynb":
        _mask_json(path, values, indent=1, keys=False)
    else:
        _mask_page(path, values)


def mask_folder(folder: Path, values: PersonalValues, done: set[str] | None = None) -> set[str]:
    """Mask every file below ``folder`` not in ``done``; returns the relative paths masked."""
    done = set(done or ())
    for path in sorted(Path(folder).rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in done:
            mask_file(path, values)
            done.add(rel)
    return done
