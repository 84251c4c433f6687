"""dedup: find every copy of a news story — verbatim syndication, trimmed wire
copies, rewrites, summaries and excerpts — verified and explained.

    >>> import dedup
    >>> result = dedup.scan("demo/articles", metadata="demo/metadata.csv")
    >>> result.related()[["doc_a", "doc_b", "relation", "reason"]]
    >>> dedup.compare(text_a, text_b).relation
"""

from dedup.api import Comparison, ScanResult, analyse, compare, scan
from dedup.params import Params
from dedup.read import Fields, InputError, documents_table, read_documents

__all__ = ["Comparison", "Fields", "InputError", "Params", "ScanResult", "analyse", "compare",
           "documents_table", "read_documents", "scan"]
