#!/usr/bin/env python3
"""Writes idp-views.lock for a hand-made test package (until generator-made
packages replace them): columns from a compact table, hashes of the files."""
import hashlib, json, sys, os

def col(field, column, prisma_type, sql_type, nullable=False, lst=False, unique=False, native=None):
    c = {"field": field, "column": column, "prisma_type": prisma_type}
    if native: c["native_type"] = native
    c.update({"sql_type": sql_type, "nullable": nullable, "list": lst, "unique": unique})
    return c

VIEWS = [
    {"name": "IdpUser", "model": "User", "source_schema": "idp", "source_table": "User", "columns": [
        col("id", "id", "String", "uuid", unique=True, native="@db.Uuid"),
        col("email", "email", "String", "text", nullable=True),
        col("firstName", "first_name", "String", "text", nullable=True),
        col("lastName", "last_name", "String", "text", nullable=True),
        col("userTypes", "user_types", "String", "text[]", lst=True),
        col("isActive", "is_active", "Boolean", "boolean"),
        col("tenantId", "tenant_id", "String", "uuid", nullable=True, native="@db.Uuid"),
        col("createdAt", "created_at", "DateTime", "timestamp(3) without time zone"),
    ]},
    {"name": "IdpTenant", "model": "Tenant", "source_schema": "idp", "source_table": "Tenant", "columns": [
        col("id", "id", "String", "uuid", unique=True, native="@db.Uuid"),
        col("code", "tenant_code", "String", "text", unique=True),
        col("name", "name", "String", "text"),
    ]},
    {"name": "IdpRole", "model": "Role", "source_schema": "idp", "source_table": "Role", "columns": [
        col("id", "id", "String", "text", unique=True),
        col("name", "name", "String", "text"),
    ]},
]

def main(d, schema="idp_views"):
    files = {}
    for name in ["create-idp-views.sql", "idp-views.prisma"]:
        with open(os.path.join(d, name), "rb") as f:
            files[name] = "sha256:" + hashlib.sha256(f.read()).hexdigest()
    head = {"@generated": "", "format": 2, "generator": "idpviews-build 0.1.0", "schema": schema,
            "files": files}
    rest = {"views": VIEWS, "enums": []}
    # the self-hash (format 2): sha256 of the canonical JSON without it
    canonical = json.dumps({**head, **rest}, indent=2, ensure_ascii=False) + "\n"
    head["package_hash"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    with open(os.path.join(d, "idp-views.lock"), "w") as f:
        f.write(json.dumps({**head, **rest}, indent=2, ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main(*sys.argv[1:])
