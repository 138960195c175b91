"""The clinic report (Qt-free): a report model built from findings, the pathway result, the
study's identity and key images; HTML with every value escaped; DICOM Encapsulated PDF.
The PDF itself is laid out by Qt (app/ui/report/pdf.py). See docs/report.md."""
