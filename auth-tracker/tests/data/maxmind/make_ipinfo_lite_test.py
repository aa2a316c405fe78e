"""Writes IPinfo-Lite-Layout-Test.mmdb, a two-network database in IPinfo Lite's flat layout.

Run with the `mmdb-writer` package from PyPI (tested with 0.2.7):

    python3 -m venv /tmp/mmdbw && /tmp/mmdbw/bin/pip install mmdb-writer==0.2.7
    /tmp/mmdbw/bin/python make_ipinfo_lite_test.py

The field names are those of the IPinfo Lite schema: country, country_code, continent,
continent_code, asn, as_name and as_domain. The database type "ipinfo ipinfo_lite.mmdb"
is an assumption, since no real IPinfo file was inspected. The values are made up and
use documentation ranges where they can (2001:db8::/32, AS64496).
"""

from mmdb_writer import MMDBWriter
from netaddr import IPSet

writer = MMDBWriter(
    ip_version=6,
    ipv4_compatible=True,
    database_type="ipinfo ipinfo_lite.mmdb",
    languages=["en"],
    description={"en": "auth-tracker test data in IPinfo Lite's layout"},
)
writer.insert_network(
    IPSet(["81.2.69.0/24"]),
    {
        "country": "United Kingdom",
        "country_code": "GB",
        "continent": "Europe",
        "continent_code": "EU",
        "asn": "AS64496",
        "as_name": "Example Networks",
        "as_domain": "example.com",
    },
)
writer.insert_network(
    IPSet(["2001:db8::/32"]),
    {
        "country": "Japan",
        "country_code": "JP",
        "continent": "Asia",
        "continent_code": "AS",
    },
)
writer.to_db_file("IPinfo-Lite-Layout-Test.mmdb")
