"""Sort keys that put Chinese names in pinyin order (东湖 after 城关, before 南桥), with pypinyin.

Databases compare names by code point; a stored key (``sort_name``) lets any query order by pinyin
on SQLite and PostgreSQL alike. Letters and digits in a name are kept as they are.
"""
from pypinyin import Style, lazy_pinyin


def sort_key(text, max_length=300) -> str:
    """``"城关街道"`` -> ``"cheng guan jie dao"``: the toneless syllables, lower case, space separated."""
    if not text:
        return ""
    return " ".join(lazy_pinyin(str(text), style=Style.NORMAL, errors="default")).lower()[:max_length]
