"""Reports as documents: JSON and XML in the shape of the Partner Report API answer
(`report_type`, `rows.data` of {name, value, type} cells, `totals.data`, `total_pages`,
`current_page`, `relations`), with every row in one document (total_pages = current_page = 1).

Both are generated piece by piece from a ReportStream, so the rows are never all in memory.
XML mirrors the JSON element for element:

    <report>
      <report_type>partner_report</report_type>
      <rows><data><row><cell><name>date</name><value>2026-03-02</value><type>date</type></cell>...</row></data></rows>
      <totals><data><row>...</row></data></totals>
      <total_pages>1</total_pages><current_page>1</current_page>
      <relations><campaigns><campaign><id>3</id><name>...</name><strategy>...</strategy></campaign></campaigns></relations>
    </report>

A money value is <value><amount>12.50</amount><amount_cents>1250.0</amount_cents><currency>EUR</currency></value>.
"""
import json
import re
from collections.abc import Iterator
from xml.sax.saxutils import escape

from django.core.serializers.json import DjangoJSONEncoder

REPORT_TYPE = "partner_report"  # as the Report API (reports.api.views.REPORT_TYPE)
# Characters XML 1.0 cannot carry at all (tracking-link parameters may hold anything).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SINGULAR = {"campaigns": "campaign", "brands": "brand", "promos": "promo", "strategies": "strategy"}


def _dumps(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def json_chunks(stream) -> Iterator[str]:
    yield f'{{"report_type": {_dumps(REPORT_TYPE)}, "rows": {{"data": ['
    first = True
    for batch in stream.batches():
        if not batch:
            continue
        yield ("" if first else ", ") + ", ".join(_dumps(row) for row in batch)
        first = False
    yield (f']}}, "totals": {{"data": {_dumps(stream.totals)}}}, "total_pages": 1, "current_page": 1, '
           f'"relations": {_dumps(stream.relations)}}}')


# --- XML ----------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_XML_ILLEGAL.sub("", str(value)))


def _element(tag: str, value) -> str:
    if isinstance(value, dict):
        inner = "".join(_element(key, item) for key, item in value.items())
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(value, list | tuple):
        singular = _SINGULAR.get(tag, "item")
        return f"<{tag}>{''.join(_element(singular, item) for item in value)}</{tag}>"
    text = _text(value)
    return f"<{tag}>{text}</{tag}>" if text else f"<{tag}/>"


def _row_xml(row: list[dict]) -> str:
    return "<row>" + "".join(
        f"<cell>{_element('name', cell['name'])}{_element('value', cell['value'])}{_element('type', cell['type'])}</cell>"
        for cell in row
    ) + "</row>"


def xml_chunks(stream) -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<report>{_element("report_type", REPORT_TYPE)}<rows><data>'
    for batch in stream.batches():
        yield "\n".join(_row_xml(row) for row in batch)
    totals = "".join(_row_xml(row) for row in stream.totals)
    relations = "".join(_element(key, items) for key, items in stream.relations.items())
    yield (f"</data></rows><totals><data>{totals}</data></totals>"
           f"<total_pages>1</total_pages><current_page>1</current_page>"
           f"<relations>{relations}</relations></report>\n")


def xml_error(message: str, field: str | None) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<error_response>{_element("error", message)}'
            f"{_element('field', field)}</error_response>\n")
