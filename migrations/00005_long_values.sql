-- +goose Up
-- A btree index row holds at most about 2.7 kB, so an index on a whole text column refuses (with an error) any
-- longer, incompressible value: about 1,000 CJK characters. The string indexes hold the first 256 characters
-- instead (at most 1 kB), which is how store writes every filter and ordering on a string property:
-- left(column, 256) beside the column, the column deciding among equal prefixes. Orderings by
-- (left(c, 256), c, id) are the orderings by (c, id), so the index still serves them, in both directions.
DROP INDEX ccd_connector_name;
DROP INDEX ccd_machine_name;
CREATE INDEX ccd_connector_name ON certificate_connector_details (tenant_id, left(connector_name, 256) NULLS FIRST, id);
CREATE INDEX ccd_machine_name ON certificate_connector_details (tenant_id, left(machine_name, 256) NULLS FIRST, id);

-- +goose Down
DROP INDEX ccd_machine_name;
DROP INDEX ccd_connector_name;
CREATE INDEX ccd_connector_name ON certificate_connector_details (tenant_id, connector_name NULLS FIRST, id);
CREATE INDEX ccd_machine_name ON certificate_connector_details (tenant_id, machine_name NULLS FIRST, id);
