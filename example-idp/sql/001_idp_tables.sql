-- The IDP's tables, as `prisma migrate` creates them from prisma/schema.
-- Idempotent: safe to run on every start of the example.

CREATE SCHEMA IF NOT EXISTS "idp";

DO $$
BEGIN
  CREATE TYPE "idp"."user_type" AS ENUM ('ADMIN', 'DRIVER', 'DISPATCHER', 'customer');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE IF NOT EXISTS "idp"."tenants" (
  "id"         uuid         NOT NULL,
  "name"       text         NOT NULL,
  "slug"       text         NOT NULL,
  "is_active"  boolean      NOT NULL DEFAULT true,
  "created_at" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX IF NOT EXISTS "tenants_slug_key" ON "idp"."tenants" ("slug");

CREATE TABLE IF NOT EXISTS "idp"."users" (
  "id"                      uuid                 NOT NULL,
  "email"                   text,
  "first_name"              text,
  "last_name"               text,
  "mobile_number"           varchar(32),
  "password"                text                 NOT NULL,
  "pin"                     text,
  "user_types"              "idp"."user_type"[],
  "is_active"               boolean              NOT NULL DEFAULT true,
  "tenant_id"               uuid,
  "avatar_url"              text,
  "refresh_token_version"   integer              NOT NULL DEFAULT 0,
  "failed_login_attempts"   integer              NOT NULL DEFAULT 0,
  "locked_until"            timestamptz(6),
  "should_change_password"  boolean              NOT NULL DEFAULT false,
  "last_password_change_at" timestamp(3),
  "last_login_at"           timestamp(3),
  "metadata"                jsonb,
  "created_at"              timestamp(3)         NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at"              timestamp(3)         NOT NULL,
  CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "users_tenant_id_fkey" FOREIGN KEY ("tenant_id")
    REFERENCES "idp"."tenants" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS "users_email_key" ON "idp"."users" ("email");
CREATE INDEX IF NOT EXISTS "users_tenant_id_idx" ON "idp"."users" ("tenant_id");
CREATE INDEX IF NOT EXISTS "users_first_name_idx" ON "idp"."users" ("first_name");

CREATE TABLE IF NOT EXISTS "idp"."roles" (
  "id"          uuid         NOT NULL,
  "name"        text         NOT NULL,
  "permissions" text[],
  "tenant_id"   uuid,
  "created_at"  timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "roles_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "roles_tenant_id_fkey" FOREIGN KEY ("tenant_id")
    REFERENCES "idp"."tenants" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS "roles_tenant_id_name_key" ON "idp"."roles" ("tenant_id", "name");
