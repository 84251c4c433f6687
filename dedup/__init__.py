"""dedup: find every copy of a news story — verbatim syndication, trimmed wire
copies, rewrites, summaries and excerpts — verified and explained.

    >>> import dedup
    >>> result = dedup.scan("demo/articles", metadata="demo/metadata.csv")
    >>> result.related()[["doc_a", "doc_b", "relation", "reason"]]
    >>> dedup.scan("huge.parquet", out="out/", jobs=8).table("pairs")   # the report too
    >>> dedup.scan("s3a://news/", spark=dedup.Spark("yarn"))             # on Apache Spark
    >>> dedup.compare(text_a, text_b).relation
    >>> dedup.Index("news.dedup").add("today/")                          # an archive that grows
"""

from dedup.api import Comparison, ScanResult, compare, scan
from dedup.fold import write_folded
from dedup.index import Index
from dedup.indexdb import ArchiveError
from dedup.params import Params
from dedup.pipeline import Spark, scan_to_disk
from dedup.read import Fields, InputError, documents_table, iter_documents, read_documents
from dedup.report import OutputError
from dedup.store import StoredScan, StoreError

__all__ = ["ArchiveError", "Comparison", "Fields", "Index", "InputError", "OutputError", "Params", "ScanResult",
           "Spark", "StoreError", "StoredScan", "compare", "documents_table", "iter_documents", "read_documents",
           "scan", "scan_to_disk", "write_folded"]
