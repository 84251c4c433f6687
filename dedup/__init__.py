"""dedup: find every copy of a news story — verbatim syndication, trimmed wire
copies, rewrites, summaries and excerpts — verified and explained.

    >>> import dedup
    >>> result = dedup.scan("demo/articles", metadata="demo/metadata.csv")
    >>> result.related()[["doc_a", "doc_b", "relation", "reason"]]
    >>> dedup.compare(text_a, text_b).relation
    >>> dedup.scan_to_disk("huge.parquet", "out/").table("pairs")   # beyond memory
"""

from dedup.api import Comparison, ScanResult, analyse, compare, scan
from dedup.params import Params
from dedup.read import Fields, InputError, documents_table, iter_documents, read_documents
from dedup.report import OutputError
from dedup.spill import scan as scan_to_disk
from dedup.store import StoredScan, StoreError

__all__ = ["Comparison", "Fields", "InputError", "OutputError", "Params", "ScanResult", "StoreError", "StoredScan",
           "analyse", "compare", "documents_table", "iter_documents", "read_documents", "scan", "scan_to_disk"]
