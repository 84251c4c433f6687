"""All tunable parameters of a scan, in one frozen dataclass.

The parameters are validated when the object is built, so a bad value fails
before any work is done, and they are written to ``manifest.json`` so a run
can be repeated exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from datasketch import MinHashLSH

Units = Literal["content", "words", "chars"]
KeepPolicy = Literal["earliest", "longest", "sources"]


@dataclass(frozen=True)
class Params:
    """Parameters of `dedup.scan` and `dedup.compare`.

    Text units (what a shingle is made of)
        units: ``"content"`` — words of at least ``min_word_len`` characters (or with a
            digit), cut to their first ``stem_len`` characters; short function words
            are dropped because frequent words are short in every language written
            with spaces (Zipf's law of abbreviation), so no stop-word list is needed.
            ``"words"`` — every word, uncut. ``"chars"`` — character ``char_k``-grams.
            Scripts written without spaces (Han, Kana, Thai, ...) always use
            character bigrams.
        min_word_len, stem_len: see ``units="content"``.
        stopwords: extra words to drop (any language), e.g. read from a file.
        shingle_k: document shingles are ``shingle_k`` consecutive units.

    Candidates (MinHash LSH, two paths)
        num_perm, seed: document MinHash size and permutation seed.
        doc_threshold: Jaccard threshold of the document path; LSH (bands, rows) are
            derived from it.
        sentence_num_perm, sentence_threshold: MinHash size and Jaccard threshold of
            the sentence path, which compares sentences as sets of units, so a
            rewrite or a summary that keeps facts but not phrasing is still found.
        min_sentence_units: sentences with fewer units are left out of the sentence path;
            a document is too short to fingerprint only with fewer units than one
            document shingle holds (``shingle_k``), so exact copies of a headline are
            still found through the document path.
        min_shared_sentences: a pair is a sentence-path candidate when at least this
            many sentences of one text collide with the other.
        max_bucket, bucket_representatives: an LSH bucket holding more than max_bucket
            items (a story syndicated to hundreds of sites, a site's footer) is not
            paired all with all: each item is paired with the bucket's first
            bucket_representatives items (in input order), so the work grows linearly
            with the bucket; such buckets are counted in the manifest and the report.

    Verification (sentence matching with rapidfuzz)
        near_verbatim: ``fuzz.ratio / 100`` from which two sentences count as
            near-verbatim (a few characters edited).
        reworded: probability (`dedup.paraphrase.reworded_probability`, a logistic
            model fit on MSRP) from which two sentences count as the same passage
            reworded. 0.5 is the accuracy-optimal cut of a calibrated model; a
            threshold chosen on the training folds of a 10-fold CV lands at
            0.49-0.53 and does no better on the held-out folds.
        trimmed: two sentences are also the same passage when at least this share
            of the shorter one's units reappears in the longer (a sentence cut
            down or padded with a clause: reuse, though MSRP calls it no paraphrase).

    Relations (shares are of each text's characters, see ``dedup.relate``)
        duplicate_share: both texts at least this share nearly verbatim in the other.
        copy_share: one text at least this share nearly verbatim in the other ...
        cover_share: ... and the shared part at least this share of the other (most
            of it); below it the reuse is ``partial``, as for a summary or an excerpt.
        rewrite_share: one text at least this share covered in the other (matched at
            any level in order, or aligned with loosely matching sentences, which
            follows merged, split and restyled sentences),
        rewrite_order: ... counting matches only when at least this share of them is
            in the same order.
        partial_share: at least this share of one text covered or matched for a
            ``partial`` relation (no count of sentences: a one-sentence text is
            judged as an article is).
        confidence: the probability (`dedup.confidence`) from which a pair that is no duplicate
            or copy counts as derived; 0.5 is the cut of a calibrated model.
        max_numbers_changed: a pair whose aligned sentences holding numbers carry
            other numbers in more than this share of them is one template with
            other facts, not a copy, and is rejected (a correction changes a few).

    Grouping
        story_link: average-linkage cut for story groups: a text or group joins
            another only when its mean link strength to all of that group's members
            is at least this, so one loosely related text cannot chain two stories.
        keep: which copy a duplicate cluster keeps: ``"earliest"`` (by date, then the
            most complete), ``"longest"``, or ``"sources"`` (first of
            ``preferred_sources``, then earliest).
        preferred_sources: source names in order of preference for ``keep="sources"``.

    Pair filters (as passim's): candidates they remove are not verified, and counted in the manifest
        skip_same_source: a pair of two texts of one source (the same non-empty source) is
            no syndication: a site's furniture and its own republications.
        within_days: a pair of two dated texts more than this many days apart is not
            compared (None: any); a pair with an undated text always is.

    Facts
        credits: agency names to look for besides `dedup.credits.AGENCIES` (as a copy may
            credit them: "Nepal News Agency"), whose loss a copy's facts report.
    """

    units: Units = "content"
    min_word_len: int = 4
    stem_len: int = 5
    stopwords: tuple[str, ...] = ()
    shingle_k: int = 2
    char_k: int = 9

    num_perm: int = 128
    seed: int = 1
    doc_threshold: float = 0.5
    sentence_num_perm: int = 64
    sentence_threshold: float = 0.3
    min_sentence_units: int = 4
    min_shared_sentences: int = 2
    max_bucket: int = 200
    bucket_representatives: int = 3

    near_verbatim: float = 0.9
    reworded: float = 0.5
    trimmed: float = 0.8

    duplicate_share: float = 0.9
    copy_share: float = 0.8
    cover_share: float = 0.5
    rewrite_share: float = 0.6
    rewrite_order: float = 0.7
    partial_share: float = 0.15
    max_numbers_changed: float = 0.5
    confidence: float = 0.5

    story_link: float = 0.15
    keep: KeepPolicy = "earliest"
    preferred_sources: tuple[str, ...] = field(default=())
    skip_same_source: bool = False
    within_days: int | None = None
    credits: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._check_choice("units", ("content", "words", "chars"))
        self._check_choice("keep", ("earliest", "longest", "sources"))
        for name in ("min_word_len", "stem_len", "shingle_k", "char_k", "num_perm",
                     "sentence_num_perm", "min_sentence_units", "min_shared_sentences",
                     "max_bucket", "bucket_representatives"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float" and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, got {value!r}")
        self._check_banding("doc_threshold", self.doc_threshold, self.num_perm)
        self._check_banding("sentence_threshold", self.sentence_threshold, self.sentence_num_perm)
        days = self.within_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
            raise ValueError(f"within_days must be a whole number of days, 0 or more, or None; got {days!r}")
        if self.keep == "sources" and not self.preferred_sources:
            raise ValueError("keep='sources' needs preferred_sources")
        object.__setattr__(self, "stopwords", tuple(w.casefold() for w in self.stopwords))
        object.__setattr__(self, "preferred_sources", tuple(self.preferred_sources))
        object.__setattr__(self, "credits", tuple(self.credits))

    @property
    def filters_pairs(self) -> bool:
        """Whether a pair filter (skip_same_source, within_days) is on."""
        return self.skip_same_source or self.within_days is not None

    @property
    def shingle_units(self) -> int:
        """Units in one document shingle: a text with fewer has no shingle, so no signature."""
        return 1 if self.units == "chars" else self.shingle_k

    def _check_choice(self, name: str, choices: tuple[str, ...]) -> None:
        if getattr(self, name) not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}; got {getattr(self, name)!r}")

    @staticmethod
    def _check_banding(name: str, threshold: float, num_perm: int) -> None:
        """LSH must be able to band this many permutations at this threshold."""
        try:
            MinHashLSH(threshold=threshold, num_perm=num_perm)
        except ValueError as err:
            raise ValueError(f"{name}={threshold} cannot be banded with {num_perm} permutations: {err}") from err

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
