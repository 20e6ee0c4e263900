"""What the index holds, mirrored in the database for the admin and for reports.

The search index is the source of truth for retrieval; ``IndexedPage`` is written by
``rag.ingestion.ingest_docs`` after each successful index update, one row per page and
collection, so staff can see what is indexed without opening the index.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IndexedPage(models.Model):
    collection = models.CharField(_("collection"), max_length=100)
    path = models.CharField(_("path"), max_length=500, help_text=_("Relative to the docs folder."))
    url = models.URLField(_("URL"), max_length=1000)
    title = models.CharField(_("title"), max_length=500, blank=True)
    version = models.CharField(_("version"), max_length=100, blank=True)
    locale = models.CharField(_("locale"), max_length=35, blank=True)
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    content_hash = models.CharField(_("content hash"), max_length=64)
    last_indexed_at = models.DateTimeField(_("last indexed at"))

    class Meta:
        verbose_name = _("indexed page")
        verbose_name_plural = _("indexed pages")
        ordering = ["collection", "path"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "path"], name="rag_indexedpage_unique_path"),
        ]

    def __str__(self) -> str:
        return f"{self.collection}: {self.path}"

    def get_absolute_url(self) -> str:
        return self.url
