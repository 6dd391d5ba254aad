-- Seed: 2 tenants, 4 users (one called Mohammed), 1 role. Idempotent
-- (upserts on fixed ids), so running it twice gives the same data.

INSERT INTO "idp"."tenants" ("id", "name", "slug", "created_at") VALUES
  ('0190a000-0000-7000-8000-000000000001', 'Gulf Fuel Co', 'gulf-fuel', '2026-01-01 08:00:00'),
  ('0190a000-0000-7000-8000-000000000002', 'Desert Haulage', 'desert-haulage', '2026-01-02 08:00:00')
ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "slug" = EXCLUDED."slug";

INSERT INTO "idp"."users" ("id", "email", "first_name", "last_name", "mobile_number", "password", "pin",
                           "user_types", "is_active", "tenant_id", "created_at", "updated_at") VALUES
  ('0190a000-0000-7000-8000-000000000101', 'mohammed.ali@gulf-fuel.example', 'Mohammed', 'Ali', '+971500000001',
   '$argon2id$v=19$not-a-real-hash', '1234', ARRAY['DRIVER']::"idp"."user_type"[], true,
   '0190a000-0000-7000-8000-000000000001', '2026-01-03 09:00:00', '2026-01-03 09:00:00'),
  ('0190a000-0000-7000-8000-000000000102', 'sara.khan@gulf-fuel.example', 'Sara', 'Khan', '+971500000002',
   '$argon2id$v=19$not-a-real-hash', NULL, ARRAY['DRIVER', 'DISPATCHER']::"idp"."user_type"[], true,
   '0190a000-0000-7000-8000-000000000001', '2026-01-04 09:00:00', '2026-01-04 09:00:00'),
  ('0190a000-0000-7000-8000-000000000103', 'omar.haddad@desert-haulage.example', 'Omar', 'Haddad', NULL,
   '$argon2id$v=19$not-a-real-hash', '9876', ARRAY['DRIVER']::"idp"."user_type"[], true,
   '0190a000-0000-7000-8000-000000000002', '2026-01-05 09:00:00', '2026-01-05 09:00:00'),
  ('0190a000-0000-7000-8000-000000000104', 'admin@viero.example', 'Platform', 'Admin', NULL,
   '$argon2id$v=19$not-a-real-hash', NULL, ARRAY['ADMIN']::"idp"."user_type"[], true,
   NULL, '2026-01-06 09:00:00', '2026-01-06 09:00:00')
ON CONFLICT ("id") DO UPDATE SET
  "email" = EXCLUDED."email", "first_name" = EXCLUDED."first_name", "last_name" = EXCLUDED."last_name",
  "user_types" = EXCLUDED."user_types", "tenant_id" = EXCLUDED."tenant_id";

INSERT INTO "idp"."roles" ("id", "name", "permissions", "tenant_id", "created_at") VALUES
  ('0190a000-0000-7000-8000-000000000201', 'fleet-manager', ARRAY['drivers:read', 'orders:write'],
   '0190a000-0000-7000-8000-000000000001', '2026-01-07 09:00:00')
ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "permissions" = EXCLUDED."permissions";
