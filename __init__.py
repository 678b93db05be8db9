"""xuewei (学位): school-place planning for Chinese counties and cities."""

__version__ = "0.1.0"
