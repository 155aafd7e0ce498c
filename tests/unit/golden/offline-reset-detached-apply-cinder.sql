-- fixpack <version> | volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 | op reset-detached | phase apply
-- database: Cinder database (db:cinder), release 2025.1, offline generation
-- run exactly: mysql --defaults-extra-file=~/fixpack-cinder.cnf --loose-sandbox --batch < sql/20-apply-cinder.sql
--   (from the bundle directory)
-- NEVER run with --force, and never with `source` at an interactive prompt: a failed guard
-- must stop the client so the server rolls the open transaction back. Each chunk commits only
-- when every guard in it held; re-running after success changes nothing.
SET NAMES utf8mb4;
SET SESSION time_zone = '+00:00';
SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
SET SESSION sql_safe_updates = 1;
SET SESSION innodb_lock_wait_timeout = 10;
SET SESSION lock_wait_timeout = 10;
SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;

-- ==== is this the right database? (read-only; stops the client if not) ====
-- identity 1/3: this is the Cinder database: it has the tables volume_attachment, volumes, which no other
--   OpenStack service database has
SET @fixpack_check = (SELECT COUNT(*) FROM `information_schema`.`TABLES` WHERE `TABLES`.`TABLE_SCHEMA` = DATABASE() AND
    `TABLES`.`TABLE_NAME` IN ('volume_attachment', 'volumes'));
SELECT 'the Cinder database: tables volume_attachment, volumes' AS `expected`, CONCAT('service tables here: ', (SELECT
      COALESCE(GROUP_CONCAT(`TABLES`.`TABLE_NAME` ORDER BY `TABLES`.`TABLE_NAME` SEPARATOR ', '), 'none') FROM
      `information_schema`.`TABLES` WHERE `TABLES`.`TABLE_SCHEMA` = DATABASE() AND `TABLES`.`TABLE_NAME` IN
      ('cell_mappings', 'compute_nodes', 'consumer_types', 'instance_mappings', 'instances', 'volume_attachment',
      'volumes'))) AS `found`
FROM DUAL
WHERE NOT (@fixpack_check <=> 2);
SELECT 'identity: the Cinder database (tables volume_attachment, volumes)' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_check <=> 2)) AS `ok`;
-- identity 2/3: the tables this file touches have exactly the columns of release 2025.1 (fixpack catalog):
--   attachment_specs (8), volume_admin_metadata (8), volume_attachment (15), volumes (40). Each line below is
--   `table column DATA_TYPE NULL|NOT NULL` (no display widths, no defaults; json counts as longtext, as MariaDB
--   stores it); on a difference every line missing or not expected is printed
SET @fixpack_check = (SELECT GROUP_CONCAT(`d`.`diff` ORDER BY `d`.`diff` SEPARATOR '; ') FROM (SELECT
      CONCAT(IF(`s`.`spec` IN (SELECT CONCAT_WS(' ', CAST(`COLUMNS`.`TABLE_NAME` AS CHAR), CAST(`COLUMNS`.`COLUMN_NAME`
      AS CHAR), CAST(IF(`COLUMNS`.`DATA_TYPE` = 'json', 'longtext', `COLUMNS`.`DATA_TYPE`) AS CHAR),
      IF(`COLUMNS`.`IS_NULLABLE` = 'YES', 'NULL', 'NOT NULL')) AS `spec` FROM `information_schema`.`COLUMNS` WHERE
      `COLUMNS`.`TABLE_SCHEMA` = DATABASE() AND `COLUMNS`.`TABLE_NAME` IN ('attachment_specs', 'volume_admin_metadata',
      'volume_attachment', 'volumes')), 'not expected: ', 'missing: '), `s`.`spec`) AS `diff` FROM (SELECT
      CONCAT_WS(' ', CAST(`COLUMNS`.`TABLE_NAME` AS CHAR), CAST(`COLUMNS`.`COLUMN_NAME` AS CHAR),
      CAST(IF(`COLUMNS`.`DATA_TYPE` = 'json', 'longtext', `COLUMNS`.`DATA_TYPE`) AS CHAR), IF(`COLUMNS`.`IS_NULLABLE` =
      'YES', 'NULL', 'NOT NULL')) AS `spec` FROM `information_schema`.`COLUMNS` WHERE `COLUMNS`.`TABLE_SCHEMA` =
      DATABASE() AND `COLUMNS`.`TABLE_NAME` IN ('attachment_specs', 'volume_admin_metadata', 'volume_attachment',
      'volumes') UNION ALL SELECT 'attachment_specs created_at datetime NULL' UNION ALL SELECT
      'attachment_specs updated_at datetime NULL' UNION ALL SELECT 'attachment_specs deleted_at datetime NULL' UNION
      ALL SELECT 'attachment_specs deleted tinyint NULL' UNION ALL SELECT 'attachment_specs id int NOT NULL' UNION ALL
      SELECT 'attachment_specs attachment_id varchar NOT NULL' UNION ALL SELECT 'attachment_specs key varchar NULL'
      UNION ALL SELECT 'attachment_specs value varchar NULL' UNION ALL SELECT
      'volume_admin_metadata created_at datetime NULL' UNION ALL SELECT
      'volume_admin_metadata updated_at datetime NULL' UNION ALL SELECT
      'volume_admin_metadata deleted_at datetime NULL' UNION ALL SELECT 'volume_admin_metadata deleted tinyint NULL'
      UNION ALL SELECT 'volume_admin_metadata id int NOT NULL' UNION ALL SELECT
      'volume_admin_metadata volume_id varchar NOT NULL' UNION ALL SELECT 'volume_admin_metadata key varchar NULL'
      UNION ALL SELECT 'volume_admin_metadata value varchar NULL' UNION ALL SELECT
      'volume_attachment created_at datetime NULL' UNION ALL SELECT 'volume_attachment updated_at datetime NULL' UNION
      ALL SELECT 'volume_attachment deleted_at datetime NULL' UNION ALL SELECT 'volume_attachment deleted tinyint NULL'
      UNION ALL SELECT 'volume_attachment id varchar NOT NULL' UNION ALL SELECT
      'volume_attachment volume_id varchar NOT NULL' UNION ALL SELECT 'volume_attachment attached_host varchar NULL'
      UNION ALL SELECT 'volume_attachment instance_uuid varchar NULL' UNION ALL SELECT
      'volume_attachment mountpoint varchar NULL' UNION ALL SELECT 'volume_attachment attach_time datetime NULL' UNION
      ALL SELECT 'volume_attachment detach_time datetime NULL' UNION ALL SELECT
      'volume_attachment attach_mode varchar NULL' UNION ALL SELECT 'volume_attachment attach_status varchar NULL'
      UNION ALL SELECT 'volume_attachment connection_info text NULL' UNION ALL SELECT
      'volume_attachment connector text NULL' UNION ALL SELECT 'volumes created_at datetime NULL' UNION ALL SELECT
      'volumes updated_at datetime NULL' UNION ALL SELECT 'volumes deleted_at datetime NULL' UNION ALL SELECT
      'volumes deleted tinyint NULL' UNION ALL SELECT 'volumes id varchar NOT NULL' UNION ALL SELECT
      'volumes ec2_id varchar NULL' UNION ALL SELECT 'volumes user_id varchar NULL' UNION ALL SELECT
      'volumes project_id varchar NULL' UNION ALL SELECT 'volumes host varchar NULL' UNION ALL SELECT
      'volumes size int NULL' UNION ALL SELECT 'volumes availability_zone varchar NULL' UNION ALL SELECT
      'volumes status varchar NULL' UNION ALL SELECT 'volumes attach_status varchar NULL' UNION ALL SELECT
      'volumes scheduled_at datetime NULL' UNION ALL SELECT 'volumes launched_at datetime NULL' UNION ALL SELECT
      'volumes terminated_at datetime NULL' UNION ALL SELECT 'volumes display_name varchar NULL' UNION ALL SELECT
      'volumes display_description varchar NULL' UNION ALL SELECT 'volumes provider_location varchar NULL' UNION ALL
      SELECT 'volumes provider_auth varchar NULL' UNION ALL SELECT 'volumes snapshot_id varchar NULL' UNION ALL SELECT
      'volumes volume_type_id varchar NOT NULL' UNION ALL SELECT 'volumes source_volid varchar NULL' UNION ALL SELECT
      'volumes bootable tinyint NULL' UNION ALL SELECT 'volumes provider_geometry varchar NULL' UNION ALL SELECT
      'volumes _name_id varchar NULL' UNION ALL SELECT 'volumes encryption_key_id varchar NULL' UNION ALL SELECT
      'volumes migration_status varchar NULL' UNION ALL SELECT 'volumes replication_status varchar NULL' UNION ALL
      SELECT 'volumes replication_extended_status varchar NULL' UNION ALL SELECT
      'volumes replication_driver_data varchar NULL' UNION ALL SELECT 'volumes consistencygroup_id varchar NULL' UNION
      ALL SELECT 'volumes provider_id varchar NULL' UNION ALL SELECT 'volumes multiattach tinyint NULL' UNION ALL
      SELECT 'volumes previous_status varchar NULL' UNION ALL SELECT 'volumes cluster_name varchar NULL' UNION ALL
      SELECT 'volumes group_id varchar NULL' UNION ALL SELECT 'volumes service_uuid varchar NULL' UNION ALL SELECT
      'volumes shared_targets tinyint NULL' UNION ALL SELECT 'volumes use_quota tinyint NOT NULL') AS `s` GROUP BY
      `s`.`spec` HAVING COUNT(*) = 1) AS `d`);
SELECT 'the columns of release 2025.1 (fixpack catalog)' AS `expected`, @fixpack_check AS `found`
FROM DUAL
WHERE NOT (@fixpack_check IS NULL);
SELECT 'identity: the tables have the columns of release 2025.1 (fixpack catalog)' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT (@fixpack_check IS NULL)) AS `ok`;
-- identity 3/3: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database (this is what tells the right
--   database)
SET @fixpack_check = (SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60');
SELECT 'volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 in volumes here' AS `expected`, CONCAT(CAST(@fixpack_check
      AS CHAR), ' row(s) in volumes') AS `found`
FROM DUAL
WHERE NOT ((@fixpack_check > 0) <=> TRUE);
SELECT 'identity: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT ((@fixpack_check > 0) <=> TRUE)) AS `ok`;

-- the server's Galera write-set limits (checked below, before the first write)
SET @fixpack_ws_query = IF((SELECT COUNT(*) FROM `information_schema`.`TABLES` WHERE `TABLES`.`TABLE_SCHEMA` =
      'information_schema' AND `TABLES`.`TABLE_NAME` = 'GLOBAL_VARIABLES') > 0,
    CONCAT('SET @fixpack_ws_on = (SELECT VARIABLE_VALUE FROM ',
      'information_schema.GLOBAL_VARIABLES WHERE LOWER(VARIABLE_NAME) = ',
      '''wsrep_on''), @fixpack_ws_rows = (SELECT VARIABLE_VALUE FROM ',
      'information_schema.GLOBAL_VARIABLES WHERE LOWER(VARIABLE_NAME) = ',
      '''wsrep_max_ws_rows''), @fixpack_ws_size = (SELECT VARIABLE_VALUE FROM ',
      'information_schema.GLOBAL_VARIABLES WHERE LOWER(VARIABLE_NAME) = ', '''wsrep_max_ws_size'')'),
    CONCAT('SET @fixpack_ws_on = (SELECT VARIABLE_VALUE FROM ',
      'performance_schema.global_variables WHERE LOWER(VARIABLE_NAME) = ',
      '''wsrep_on''), @fixpack_ws_rows = (SELECT VARIABLE_VALUE FROM ',
      'performance_schema.global_variables WHERE LOWER(VARIABLE_NAME) = ',
      '''wsrep_max_ws_rows''), @fixpack_ws_size = (SELECT VARIABLE_VALUE FROM ',
      'performance_schema.global_variables WHERE LOWER(VARIABLE_NAME) = ', '''wsrep_max_ws_size'')'));
PREPARE fixpack_ws_read FROM @fixpack_ws_query;
EXECUTE fixpack_ws_read;
DEALLOCATE PREPARE fixpack_ws_read;

-- ==== round 1/2: one transaction, at most 1000 row(s) in all steps ====
START TRANSACTION;
SET @fixpack_now = UTC_TIMESTAMP();
-- precondition: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database
SELECT 'volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT ((SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60') =
      1)) AS `ok`;
-- precondition: no transitional status changed less than 1h ago (--allow-recent-transition, --stale-after)
SELECT 'no transitional status changed less than 1h ago (--allow-recent-transition, --stale-after)' AS `guard`, (SELECT
    1 UNION ALL SELECT 2 FROM DUAL WHERE NOT ((SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volumes`.`deleted` = 0 AND `volumes`.`status` IN ('creating',
      'deleting', 'error_managing_deleting', 'unmanaging', 'managing', 'attaching', 'detaching', 'maintenance',
      'backing-up', 'restoring-backup', 'downloading', 'uploading', 'retyping', 'extending') AND `volumes`.`updated_at`
      > UTC_TIMESTAMP() - INTERVAL 3600 SECOND) = 0)) AS `ok`;
-- precondition: the volume is not being migrated (--allow-migrating to override)
SELECT 'the volume is not being migrated (--allow-migrating to override)' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT ((SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
      `volumes`.`deleted` = 0 AND (`volumes`.`migration_status` IN ('starting', 'migrating', 'completing') OR
      `volumes`.`migration_status` LIKE 'target:%')) = 0)) AS `ok`;
-- before the first write: each step at most 1000 rows, all steps at most 2000 (2 transaction(s) of at most 1000
--   rows), and the server's Galera write-set limits fit a chunk
SET @fixpack_total = 0;
SET @fixpack_scope = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
    `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0)
    FOR UPDATE);
SELECT 'step 1: attachment_specs' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 1: attachment_specs: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1 UNION
    ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_1 = @fixpack_scope;
SET @fixpack_estimate_1 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('', HEX(`attachment_specs`.`created_at`),
      HEX(`attachment_specs`.`updated_at`), HEX(`attachment_specs`.`deleted_at`), HEX(`attachment_specs`.`deleted`),
      HEX(`attachment_specs`.`id`), HEX(`attachment_specs`.`attachment_id`), HEX(`attachment_specs`.`key`),
      HEX(`attachment_specs`.`value`))) / 2), 0) + 48) + 64) FROM `attachment_specs` WHERE `attachment_specs`.`deleted`
    = 0 AND `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0));
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0 FOR UPDATE);
SELECT 'step 2: volume_attachment' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 2: volume_attachment: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1 UNION
    ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_2 = @fixpack_scope;
SET @fixpack_estimate_2 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('', HEX(`volume_attachment`.`created_at`),
      HEX(`volume_attachment`.`updated_at`), HEX(`volume_attachment`.`deleted_at`), HEX(`volume_attachment`.`deleted`),
      HEX(`volume_attachment`.`id`), HEX(`volume_attachment`.`volume_id`), HEX(`volume_attachment`.`attached_host`),
      HEX(`volume_attachment`.`instance_uuid`), HEX(`volume_attachment`.`mountpoint`),
      HEX(`volume_attachment`.`attach_time`), HEX(`volume_attachment`.`detach_time`),
      HEX(`volume_attachment`.`attach_mode`), HEX(`volume_attachment`.`attach_status`),
      HEX(`volume_attachment`.`connection_info`), HEX(`volume_attachment`.`connector`))) / 2), 0) + 90) + 64) FROM
    `volume_attachment` WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volume_attachment`.`deleted` = 0);
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_admin_metadata`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` = 'attached_mode' AND
    `volume_admin_metadata`.`deleted` = 0 FOR UPDATE);
SELECT 'step 3: volume_admin_metadata' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 3: volume_admin_metadata: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_3 = @fixpack_scope;
SET @fixpack_estimate_3 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('',
      HEX(`volume_admin_metadata`.`created_at`), HEX(`volume_admin_metadata`.`updated_at`),
      HEX(`volume_admin_metadata`.`deleted_at`), HEX(`volume_admin_metadata`.`deleted`),
      HEX(`volume_admin_metadata`.`id`), HEX(`volume_admin_metadata`.`volume_id`), HEX(`volume_admin_metadata`.`key`),
      HEX(`volume_admin_metadata`.`value`))) / 2), 0) + 48) + 64) FROM `volume_admin_metadata` WHERE
    `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` =
    'attached_mode' AND `volume_admin_metadata`.`deleted` = 0);
SET @fixpack_scope = (SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached') FOR UPDATE);
SELECT 'step 4: volumes' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 4: volumes: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1 UNION ALL SELECT
    2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_4 = @fixpack_scope;
SET @fixpack_estimate_4 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('', HEX(`volumes`.`created_at`),
      HEX(`volumes`.`updated_at`), HEX(`volumes`.`deleted_at`), HEX(`volumes`.`deleted`), HEX(`volumes`.`id`),
      HEX(`volumes`.`ec2_id`), HEX(`volumes`.`user_id`), HEX(`volumes`.`project_id`), HEX(`volumes`.`host`),
      HEX(`volumes`.`size`), HEX(`volumes`.`availability_zone`), HEX(`volumes`.`status`),
      HEX(`volumes`.`attach_status`), HEX(`volumes`.`scheduled_at`), HEX(`volumes`.`launched_at`),
      HEX(`volumes`.`terminated_at`), HEX(`volumes`.`display_name`), HEX(`volumes`.`display_description`),
      HEX(`volumes`.`provider_location`), HEX(`volumes`.`provider_auth`), HEX(`volumes`.`snapshot_id`),
      HEX(`volumes`.`volume_type_id`), HEX(`volumes`.`source_volid`), HEX(`volumes`.`bootable`),
      HEX(`volumes`.`provider_geometry`), HEX(`volumes`.`_name_id`), HEX(`volumes`.`encryption_key_id`),
      HEX(`volumes`.`migration_status`), HEX(`volumes`.`replication_status`),
      HEX(`volumes`.`replication_extended_status`), HEX(`volumes`.`replication_driver_data`),
      HEX(`volumes`.`consistencygroup_id`), HEX(`volumes`.`provider_id`), HEX(`volumes`.`multiattach`),
      HEX(`volumes`.`previous_status`), HEX(`volumes`.`cluster_name`), HEX(`volumes`.`group_id`),
      HEX(`volumes`.`service_uuid`), HEX(`volumes`.`shared_targets`), HEX(`volumes`.`use_quota`))) / 2), 0) + 240) +
      64) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volumes`.`deleted` = 0 AND
    (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=> 'detached'));
SET @fixpack_ws_bytes = (SELECT COALESCE(SUM(LEAST(`s`.`n`, 1000) * `s`.`e`), 0) FROM (SELECT @fixpack_count_1 AS `n`,
      @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2 AS `e` UNION ALL SELECT
      @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4 AS `n`, @fixpack_estimate_4
      AS `e`) AS `s`);
SET @fixpack_ws_lo = 0;
SET @fixpack_ws_hi = 1000;
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SELECT CONCAT('ERROR: the steps would change ', @fixpack_total,
    CONCAT(' rows; this apply holds 2 transaction(s) of at most 1000 rows (2000 in all). Nothing was changed',
      '. Regenerate with a larger --chunk-rows.')) AS `fixpack`
FROM DUAL
WHERE @fixpack_total > 2000;
SELECT 'all steps together at most 2000 rows' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT
    (@fixpack_total <= 2000)) AS `ok`;
SET @fixpack_ws_refuse = IF(UPPER(COALESCE(@fixpack_ws_on, 'OFF')) IN ('ON', '1') AND ((COALESCE(@fixpack_ws_rows, 0) >
      0 AND COALESCE(@fixpack_ws_rows, 0) < 1000) OR (COALESCE(@fixpack_ws_size, 0) > 0 AND COALESCE(@fixpack_ws_size,
      0) < COALESCE(@fixpack_ws_bytes, 0))), 1, 0);
SELECT CONCAT('ERROR: this offline apply changes up to 1000 row(s) per transaction (chunk); ',
    'this Galera node has wsrep_max_ws_rows=', COALESCE(@fixpack_ws_rows, 0), ' and wsrep_max_ws_size=',
    COALESCE(@fixpack_ws_size, 0), ' (estimated write set of a chunk: ', CEILING(COALESCE(@fixpack_ws_bytes, 0)),
    ' bytes), so a chunk would fail with ERROR 1180. Nothing was changed. ',
    'Regenerate the bundle with --chunk-rows ', LEAST(COALESCE(@fixpack_ws_lo, 1000), IF(COALESCE(@fixpack_ws_rows, 0)
      > 0, COALESCE(@fixpack_ws_rows, 0), 1000)), ' (or fewer).') AS `fixpack`
FROM DUAL
WHERE @fixpack_ws_refuse = 1;
SELECT 'Galera write-set limits: a chunk of 1000 row(s) fits (or wsrep is off)' AS `guard`, (SELECT 1 UNION ALL SELECT
    2 FROM DUAL WHERE NOT (@fixpack_ws_refuse <=> 0)) AS `ok`;
SET @fixpack_budget = 1000;

-- step 1: attachment_specs (round 1): soft-delete the legacy connector specs, as Cinder does when it loads the
--   attachment — rows: live specs of the attachments to close
SET @fixpack_scope = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
    `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0)
    FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_1_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `attachment_specs`.`id`, ROW_NUMBER() OVER (ORDER BY
      `attachment_specs`.`id`) AS `fixpack_n` FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
      `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0))
    AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 1: attachment_specs (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 1: attachment_specs (round 1): the last row within the budget was found (or there is nothin',
    'g to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_1_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
-- attachment_specs has no index on the scope's columns, so safe-update mode would refuse this statement: it is
--   keyed on the target UUID (lint FX001) and its row count is guarded before and after, so safe updates are off
--   for this one statement
SET SESSION sql_safe_updates = 0;
UPDATE `attachment_specs`
SET `attachment_specs`.`deleted` = 1, `attachment_specs`.`deleted_at` = @fixpack_now
WHERE `attachment_specs`.`deleted` = 0 AND `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM
    `volume_attachment` WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volume_attachment`.`deleted` = 0) AND `attachment_specs`.`id` <= @fixpack_hi_1_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SET SESSION sql_safe_updates = 1;
SELECT 'step 1: attachment_specs (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
    `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0));
SELECT 'step 1: attachment_specs (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

-- step 2: volume_attachment (round 1): close the attachment as volume_detached does
--   (VolumeAttachment.delete_values) — rows: live attachments to close
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_2_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `volume_attachment`.`id`, ROW_NUMBER() OVER (ORDER BY
      `volume_attachment`.`id`) AS `fixpack_n` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0) AS `fixpack_ranked` WHERE
    `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 2: volume_attachment (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 2: volume_attachment (round 1): the last row within the budget was found (or there is nothi',
    'ng to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_2_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_attachment`
SET `volume_attachment`.`attach_status` = 'detached', `volume_attachment`.`deleted` = 1,
  `volume_attachment`.`deleted_at` = @fixpack_now, `volume_attachment`.`detach_time` = @fixpack_now,
  `volume_attachment`.`updated_at` = @fixpack_now
WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0
  AND `volume_attachment`.`id` <= @fixpack_hi_2_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 2: volume_attachment (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0);
SELECT 'step 2: volume_attachment (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

-- step 3: volume_admin_metadata (round 1): forget the attach mode, as finish_detach does — rows: live
--   attached_mode admin metadata
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_admin_metadata`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` = 'attached_mode' AND
    `volume_admin_metadata`.`deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_3_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `volume_admin_metadata`.`id`, ROW_NUMBER() OVER (ORDER
      BY `volume_admin_metadata`.`id`) AS `fixpack_n` FROM `volume_admin_metadata` WHERE
      `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` =
      'attached_mode' AND `volume_admin_metadata`.`deleted` = 0) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n`
    = @fixpack_take);
SELECT 'step 3: volume_admin_metadata (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 3: volume_admin_metadata (round 1): the last row within the budget was found (or there is n',
    'othing to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_3_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_admin_metadata`
SET `volume_admin_metadata`.`deleted` = 1, `volume_admin_metadata`.`deleted_at` = @fixpack_now
WHERE `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` =
  'attached_mode' AND `volume_admin_metadata`.`deleted` = 0 AND `volume_admin_metadata`.`id` <= @fixpack_hi_3_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 3: volume_admin_metadata (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_admin_metadata`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` = 'attached_mode' AND
    `volume_admin_metadata`.`deleted` = 0);
SELECT 'step 3: volume_admin_metadata (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT
    1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

-- step 4: volumes (round 1): status and attach_status from the attachments that stay — rows: the volume, unless
--   its status already follows from the attachments that stay
SET @fixpack_scope = (SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached') FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_4_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `volumes`.`id`, ROW_NUMBER() OVER (ORDER BY
      `volumes`.`id`) AS `fixpack_n` FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
      `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached')) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 4: volumes (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 4: volumes (round 1): the last row within the budget was found (or there is nothing to take', ')')
  AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT @fixpack_hi_4_0 IS NULL))
  AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volumes`
SET `volumes`.`status` = 'available', `volumes`.`attach_status` = 'detached', `volumes`.`updated_at` = @fixpack_now
WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volumes`.`deleted` = 0 AND (NOT `volumes`.`status`
    <=> 'available' OR NOT `volumes`.`attach_status` <=> 'detached') AND `volumes`.`id` <= @fixpack_hi_4_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 4: volumes (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE
    NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached'));
SELECT 'step 4: volumes (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

SELECT 'apply round 1/2' AS `round`, 1000 - @fixpack_budget AS `rows_changed`;
COMMIT;

-- ==== round 2/2: one transaction, at most 1000 row(s) in all steps ====
START TRANSACTION;
SET @fixpack_now = UTC_TIMESTAMP();
SET @fixpack_budget = 1000;

-- step 1: attachment_specs (round 2): soft-delete the legacy connector specs, as Cinder does when it loads the
--   attachment — rows: live specs of the attachments to close
SET @fixpack_scope = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
    `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0)
    FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_1_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `attachment_specs`.`id`, ROW_NUMBER() OVER (ORDER BY
      `attachment_specs`.`id`) AS `fixpack_n` FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
      `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0))
    AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 1: attachment_specs (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 1: attachment_specs (round 2): the last row within the budget was found (or there is nothin',
    'g to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_1_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
-- attachment_specs has no index on the scope's columns, so safe-update mode would refuse this statement: it is
--   keyed on the target UUID (lint FX001) and its row count is guarded before and after, so safe updates are off
--   for this one statement
SET SESSION sql_safe_updates = 0;
UPDATE `attachment_specs`
SET `attachment_specs`.`deleted` = 1, `attachment_specs`.`deleted_at` = @fixpack_now
WHERE `attachment_specs`.`deleted` = 0 AND `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM
    `volume_attachment` WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volume_attachment`.`deleted` = 0) AND `attachment_specs`.`id` <= @fixpack_hi_1_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SET SESSION sql_safe_updates = 1;
SELECT 'step 1: attachment_specs (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
    `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0));
SELECT 'step 1: attachment_specs (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 1: attachment_specs: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL
    WHERE NOT (@fixpack_after <=> 0)) AS `ok`;

-- step 2: volume_attachment (round 2): close the attachment as volume_detached does
--   (VolumeAttachment.delete_values) — rows: live attachments to close
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_2_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `volume_attachment`.`id`, ROW_NUMBER() OVER (ORDER BY
      `volume_attachment`.`id`) AS `fixpack_n` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0) AS `fixpack_ranked` WHERE
    `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 2: volume_attachment (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 2: volume_attachment (round 2): the last row within the budget was found (or there is nothi',
    'ng to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_2_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_attachment`
SET `volume_attachment`.`attach_status` = 'detached', `volume_attachment`.`deleted` = 1,
  `volume_attachment`.`deleted_at` = @fixpack_now, `volume_attachment`.`detach_time` = @fixpack_now,
  `volume_attachment`.`updated_at` = @fixpack_now
WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0
  AND `volume_attachment`.`id` <= @fixpack_hi_2_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 2: volume_attachment (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0);
SELECT 'step 2: volume_attachment (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 2: volume_attachment: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_after <=> 0)) AS `ok`;

-- step 3: volume_admin_metadata (round 2): forget the attach mode, as finish_detach does — rows: live
--   attached_mode admin metadata
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_admin_metadata`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` = 'attached_mode' AND
    `volume_admin_metadata`.`deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_3_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `volume_admin_metadata`.`id`, ROW_NUMBER() OVER (ORDER
      BY `volume_admin_metadata`.`id`) AS `fixpack_n` FROM `volume_admin_metadata` WHERE
      `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` =
      'attached_mode' AND `volume_admin_metadata`.`deleted` = 0) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n`
    = @fixpack_take);
SELECT 'step 3: volume_admin_metadata (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 3: volume_admin_metadata (round 2): the last row within the budget was found (or there is n',
    'othing to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_3_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_admin_metadata`
SET `volume_admin_metadata`.`deleted` = 1, `volume_admin_metadata`.`deleted_at` = @fixpack_now
WHERE `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` =
  'attached_mode' AND `volume_admin_metadata`.`deleted` = 0 AND `volume_admin_metadata`.`id` <= @fixpack_hi_3_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 3: volume_admin_metadata (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_admin_metadata`.`volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_admin_metadata`.`key` = 'attached_mode' AND
    `volume_admin_metadata`.`deleted` = 0);
SELECT 'step 3: volume_admin_metadata (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT
    1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 3: volume_admin_metadata: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_after <=> 0)) AS `ok`;

-- step 4: volumes (round 2): status and attach_status from the attachments that stay — rows: the volume, unless
--   its status already follows from the attachments that stay
SET @fixpack_scope = (SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached') FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_4_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `volumes`.`id`, ROW_NUMBER() OVER (ORDER BY
      `volumes`.`id`) AS `fixpack_n` FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
      `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached')) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 4: volumes (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 4: volumes (round 2): the last row within the budget was found (or there is nothing to take', ')')
  AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT @fixpack_hi_4_0 IS NULL))
  AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volumes`
SET `volumes`.`status` = 'available', `volumes`.`attach_status` = 'detached', `volumes`.`updated_at` = @fixpack_now
WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volumes`.`deleted` = 0 AND (NOT `volumes`.`status`
    <=> 'available' OR NOT `volumes`.`attach_status` <=> 'detached') AND `volumes`.`id` <= @fixpack_hi_4_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 4: volumes (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE
    NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
    `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached'));
SELECT 'step 4: volumes (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 4: volumes: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE
    NOT (@fixpack_after <=> 0)) AS `ok`;

SELECT 'apply round 2/2' AS `round`, 1000 - @fixpack_budget AS `rows_changed`;
COMMIT;

SELECT 'apply finished: every guard held' AS `fixpack`;
