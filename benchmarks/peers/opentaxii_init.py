"""Create OpenTAXII 0.9.3's TAXII 2.1 API root, one collection and the benchmark's accounts.

Runs inside the OpenTAXII virtualenv with ``OPENTAXII_CONFIG`` set, before the server starts.
Reads ``{"users": {name: password}}`` on standard input and prints
``{"api_root": id, "collection": id}``. The accounts are admins: OpenTAXII 0.9.3 keeps an
account's collection permissions as one word ("read" or "modify") but its TAXII 2.1 checks look
for "read"/"write" in the set of that word's letters, so only admins (or public collections) can
use TAXII 2.1 at all.
"""

import json
import sys

from opentaxii.http import app


def main() -> None:
    users = json.load(sys.stdin)["users"]
    with app.app_context():
        taxii2 = app.taxii_server.servers.taxii2.persistence.api
        root = taxii2.add_api_root(title="bench", description="benchmark", default=True)
        collection = taxii2.add_collection(
            api_root_id=str(root.id), title="bench", description="benchmark collection"
        )
        for username, password in users.items():
            app.taxii_server.auth.api.create_account(
                username=username, password=password, is_admin=True
            )
    print(json.dumps({"api_root": str(root.id), "collection": str(collection.id)}))


if __name__ == "__main__":
    main()
