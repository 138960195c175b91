"""PACS networking (Qt-free): DIMSE through pynetdicom, DICOMweb through dicomweb-client."""
