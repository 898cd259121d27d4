-- +goose Up
-- Samples behind the getHealthMetrics and getHealthMetricTimeSeries actions: per connector, metric and time,
-- how many operations succeeded and failed. They go when their connector goes.
CREATE TABLE health_metric_samples (
    tenant_id     uuid     NOT NULL,
    connector_id  uuid     NOT NULL,
    metric_name   text COLLATE "C" NOT NULL,
    ticks         bigint   NOT NULL CHECK (ticks BETWEEN 0 AND 3155378975999999999),
    offset_min    smallint NOT NULL CHECK (offset_min BETWEEN -840 AND 840),
    success_count bigint   NOT NULL CHECK (success_count >= 0),
    failure_count bigint   NOT NULL CHECK (failure_count >= 0),
    PRIMARY KEY (tenant_id, connector_id, metric_name, ticks),
    FOREIGN KEY (tenant_id, connector_id) REFERENCES certificate_connector_details (tenant_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE health_metric_samples;
