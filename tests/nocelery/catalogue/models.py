"""The shop's own product model: nothing in it knows about Genlook."""

from django.db import models


class Product(models.Model):
    title = models.CharField(max_length=200)
    picture_url = models.URLField()
    is_public = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.title
