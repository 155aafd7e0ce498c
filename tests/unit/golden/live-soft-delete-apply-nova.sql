-- fixpack <version> | vm 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 | op soft-delete | phase apply
-- database: Nova cell database (cell1) (db:nova), release 2025.1, live generation
-- run exactly: mysql --defaults-extra-file=~/fixpack-nova.cnf --loose-sandbox --batch < sql/20-apply-nova.sql
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
-- identity 1/3: this is a Nova cell database: it has the tables compute_nodes, instances, which no other OpenStack
--   service database has
SET @fixpack_check = (SELECT COUNT(*) FROM `information_schema`.`TABLES` WHERE `TABLES`.`TABLE_SCHEMA` = DATABASE() AND
    `TABLES`.`TABLE_NAME` IN ('compute_nodes', 'instances'));
SELECT 'a Nova cell database: tables compute_nodes, instances' AS `expected`, CONCAT('service tables here: ', (SELECT
      COALESCE(GROUP_CONCAT(`TABLES`.`TABLE_NAME` ORDER BY `TABLES`.`TABLE_NAME` SEPARATOR ', '), 'none') FROM
      `information_schema`.`TABLES` WHERE `TABLES`.`TABLE_SCHEMA` = DATABASE() AND `TABLES`.`TABLE_NAME` IN
      ('cell_mappings', 'compute_nodes', 'consumer_types', 'instance_mappings', 'instances', 'volume_attachment',
      'volumes'))) AS `found`
FROM DUAL
WHERE NOT (@fixpack_check <=> 2);
SELECT 'identity: a Nova cell database (tables compute_nodes, instances)' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_check <=> 2)) AS `ok`;
-- identity 2/3: the tables this file touches have exactly the columns of the nova schema read at generation:
--   instance_metadata (8), instances (54), tags (2). Each line below is `table column DATA_TYPE NULL|NOT NULL` (no
--   display widths, no defaults; json counts as longtext, as MariaDB stores it); on a difference every line
--   missing or not expected is printed
SET @fixpack_check = (SELECT GROUP_CONCAT(`d`.`diff` ORDER BY `d`.`diff` SEPARATOR '; ') FROM (SELECT
      CONCAT(IF(`s`.`spec` IN (SELECT CONCAT_WS(' ', CAST(`COLUMNS`.`TABLE_NAME` AS CHAR), CAST(`COLUMNS`.`COLUMN_NAME`
      AS CHAR), CAST(IF(`COLUMNS`.`DATA_TYPE` = 'json', 'longtext', `COLUMNS`.`DATA_TYPE`) AS CHAR),
      IF(`COLUMNS`.`IS_NULLABLE` = 'YES', 'NULL', 'NOT NULL')) AS `spec` FROM `information_schema`.`COLUMNS` WHERE
      `COLUMNS`.`TABLE_SCHEMA` = DATABASE() AND `COLUMNS`.`TABLE_NAME` IN ('instance_metadata', 'instances', 'tags')),
      'not expected: ', 'missing: '), `s`.`spec`) AS `diff` FROM (SELECT CONCAT_WS(' ', CAST(`COLUMNS`.`TABLE_NAME`
      AS CHAR), CAST(`COLUMNS`.`COLUMN_NAME` AS CHAR), CAST(IF(`COLUMNS`.`DATA_TYPE` = 'json', 'longtext',
      `COLUMNS`.`DATA_TYPE`) AS CHAR), IF(`COLUMNS`.`IS_NULLABLE` = 'YES', 'NULL', 'NOT NULL')) AS `spec` FROM
      `information_schema`.`COLUMNS` WHERE `COLUMNS`.`TABLE_SCHEMA` = DATABASE() AND `COLUMNS`.`TABLE_NAME` IN
      ('instance_metadata', 'instances', 'tags') UNION ALL SELECT 'instance_metadata created_at datetime NULL' UNION
      ALL SELECT 'instance_metadata updated_at datetime NULL' UNION ALL SELECT
      'instance_metadata deleted_at datetime NULL' UNION ALL SELECT 'instance_metadata id int NOT NULL' UNION ALL
      SELECT 'instance_metadata key varchar NULL' UNION ALL SELECT 'instance_metadata value varchar NULL' UNION ALL
      SELECT 'instance_metadata instance_uuid varchar NULL' UNION ALL SELECT 'instance_metadata deleted int NULL' UNION
      ALL SELECT 'instances created_at datetime NULL' UNION ALL SELECT 'instances updated_at datetime NULL' UNION ALL
      SELECT 'instances deleted_at datetime NULL' UNION ALL SELECT 'instances id int NOT NULL' UNION ALL SELECT
      'instances internal_id int NULL' UNION ALL SELECT 'instances user_id varchar NULL' UNION ALL SELECT
      'instances project_id varchar NULL' UNION ALL SELECT 'instances image_ref varchar NULL' UNION ALL SELECT
      'instances kernel_id varchar NULL' UNION ALL SELECT 'instances ramdisk_id varchar NULL' UNION ALL SELECT
      'instances launch_index int NULL' UNION ALL SELECT 'instances key_name varchar NULL' UNION ALL SELECT
      'instances key_data mediumtext NULL' UNION ALL SELECT 'instances power_state int NULL' UNION ALL SELECT
      'instances vm_state varchar NULL' UNION ALL SELECT 'instances memory_mb int NULL' UNION ALL SELECT
      'instances vcpus int NULL' UNION ALL SELECT 'instances hostname varchar NULL' UNION ALL SELECT
      'instances host varchar NULL' UNION ALL SELECT 'instances user_data mediumtext NULL' UNION ALL SELECT
      'instances reservation_id varchar NULL' UNION ALL SELECT 'instances launched_at datetime NULL' UNION ALL SELECT
      'instances terminated_at datetime NULL' UNION ALL SELECT 'instances display_name varchar NULL' UNION ALL SELECT
      'instances display_description varchar NULL' UNION ALL SELECT 'instances availability_zone varchar NULL' UNION
      ALL SELECT 'instances locked tinyint NULL' UNION ALL SELECT 'instances os_type varchar NULL' UNION ALL SELECT
      'instances launched_on mediumtext NULL' UNION ALL SELECT 'instances instance_type_id int NULL' UNION ALL SELECT
      'instances vm_mode varchar NULL' UNION ALL SELECT 'instances uuid varchar NOT NULL' UNION ALL SELECT
      'instances architecture varchar NULL' UNION ALL SELECT 'instances root_device_name varchar NULL' UNION ALL SELECT
      'instances access_ip_v4 varchar NULL' UNION ALL SELECT 'instances access_ip_v6 varchar NULL' UNION ALL SELECT
      'instances config_drive varchar NULL' UNION ALL SELECT 'instances task_state varchar NULL' UNION ALL SELECT
      'instances default_ephemeral_device varchar NULL' UNION ALL SELECT 'instances default_swap_device varchar NULL'
      UNION ALL SELECT 'instances progress int NULL' UNION ALL SELECT 'instances auto_disk_config tinyint NULL' UNION
      ALL SELECT 'instances shutdown_terminate tinyint NULL' UNION ALL SELECT
      'instances disable_terminate tinyint NULL' UNION ALL SELECT 'instances root_gb int NULL' UNION ALL SELECT
      'instances ephemeral_gb int NULL' UNION ALL SELECT 'instances cell_name varchar NULL' UNION ALL SELECT
      'instances node varchar NULL' UNION ALL SELECT 'instances deleted int NULL' UNION ALL SELECT
      'instances locked_by enum NULL' UNION ALL SELECT 'instances cleaned int NULL' UNION ALL SELECT
      'instances ephemeral_key_uuid varchar NULL' UNION ALL SELECT 'instances hidden tinyint NULL' UNION ALL SELECT
      'instances compute_id bigint NULL' UNION ALL SELECT 'tags resource_id varchar NOT NULL' UNION ALL SELECT
      'tags tag varchar NOT NULL') AS `s` GROUP BY `s`.`spec` HAVING COUNT(*) = 1) AS `d`);
SELECT 'the columns of the nova schema read at generation' AS `expected`, @fixpack_check AS `found`
FROM DUAL
WHERE NOT (@fixpack_check IS NULL);
SELECT 'identity: the tables have the columns of the nova schema read at generation' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT (@fixpack_check IS NULL)) AS `ok`;
-- identity 3/3: instance 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 is in this database (this is what tells its cell
--   from cell0 or another cell)
SET @fixpack_check = (SELECT COUNT(*) FROM `instances` WHERE `instances`.`uuid` =
    '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57');
SELECT 'instance 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 in instances here' AS `expected`, CONCAT(CAST(@fixpack_check
      AS CHAR), ' row(s) in instances') AS `found`
FROM DUAL
WHERE NOT ((@fixpack_check > 0) <=> TRUE);
SELECT 'identity: instance 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 is in this database' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT ((@fixpack_check > 0) <=> TRUE)) AS `ok`;

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
SET @fixpack_ws_refuse = IF(UPPER(COALESCE(@fixpack_ws_on, 'OFF')) IN ('ON', '1') AND ((COALESCE(@fixpack_ws_rows, 0) >
      0 AND COALESCE(@fixpack_ws_rows, 0) < 4) OR (COALESCE(@fixpack_ws_size, 0) > 0 AND COALESCE(@fixpack_ws_size, 0)
      < 2472)), 1, 0);
SELECT CONCAT('ERROR: this apply changes up to 4 row(s) per transaction (chunk); ',
    'this Galera node has wsrep_max_ws_rows=', COALESCE(@fixpack_ws_rows, 0), ' and wsrep_max_ws_size=',
    COALESCE(@fixpack_ws_size, 0), ' (estimated write set of a chunk: ', CEILING(2472),
    ' bytes), so a chunk would fail with ERROR 1180. Nothing was changed. ',
    'Regenerate the bundle with --chunk-rows ', LEAST(COALESCE(FLOOR(0.9 * COALESCE(@fixpack_ws_size, 0) / (2472 / 4)),
      4), IF(COALESCE(@fixpack_ws_rows, 0) > 0, COALESCE(@fixpack_ws_rows, 0), 4)), ' (or fewer).') AS `fixpack`
FROM DUAL
WHERE @fixpack_ws_refuse = 1;
SELECT 'Galera write-set limits: a chunk of 4 row(s) fits (or wsrep is off)' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_ws_refuse <=> 0)) AS `ok`;
SET @fixpack_changed = 0;

-- ==== chunk 1/1: 3 step(s), 4 row(s) ====
START TRANSACTION;
SET @fixpack_chunk = NULL;
SET @fixpack_now = UTC_TIMESTAMP();

-- describe(): step 1/3 — update 2 rows of instance_metadata: soft-delete as instance_destroy does (deleted = id) —
--   2 row(s)
SET @fixpack_scope = (SELECT COUNT(*) FROM `instance_metadata` WHERE `instance_metadata`.`instance_uuid` =
    '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `instance_metadata`.`deleted` = 0 FOR UPDATE);
SET @fixpack_before = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(`instance_metadata`.`created_at`)), 'N'), COALESCE(CONCAT('v', HEX(`instance_metadata`.`updated_at`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instance_metadata`.`deleted_at`)), 'N'), COALESCE(CONCAT('v',
      HEX(`instance_metadata`.`id`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instance_metadata`.`key` USING
      utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instance_metadata`.`value` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instance_metadata`.`instance_uuid` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instance_metadata`.`deleted`)), 'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `instance_metadata` WHERE
    `instance_metadata`.`id` IN (1, 2) FOR UPDATE);
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(`instance_metadata`.`created_at`)), 'N'), COALESCE(CONCAT('v', HEX(`instance_metadata`.`updated_at`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instance_metadata`.`id`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instance_metadata`.`key` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instance_metadata`.`value` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instance_metadata`.`instance_uuid` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instance_metadata`.`deleted`)), 'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `instance_metadata` WHERE
    `instance_metadata`.`id` IN (1, 2));
SET @fixpack_state = CASE WHEN @fixpack_scope = 2 AND @fixpack_before = '2:17610001467849570010' THEN 'pending' WHEN
  @fixpack_after = '2:13613443706423749474' THEN 'done' ELSE 'drift' END;
SET @fixpack_chunk = COALESCE(@fixpack_chunk, @fixpack_state);
SELECT 'step 1: instance_metadata' AS `step`, @fixpack_state AS `state`;
SELECT 'step 1: instance_metadata: rows are as at generation (or the step is already done)' AS `guard`, (SELECT 1 UNION
    ALL SELECT 2 FROM DUAL WHERE NOT ((@fixpack_state <=> 'pending' OR @fixpack_state <=> 'done') AND @fixpack_state
      <=> @fixpack_chunk)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `instance_metadata`
SET `instance_metadata`.`deleted` = `instance_metadata`.`id`, `instance_metadata`.`deleted_at` = @fixpack_now
WHERE (`instance_metadata`.`id` IN (1, 2)) AND @fixpack_state = 'pending';
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 1: instance_metadata: changed 2 row(s) if pending, none if done' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_rc <=> CASE WHEN @fixpack_state = 'pending' THEN 2 ELSE 0 END)) AS `ok`;
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(`instance_metadata`.`created_at`)), 'N'), COALESCE(CONCAT('v', HEX(`instance_metadata`.`updated_at`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instance_metadata`.`id`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instance_metadata`.`key` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instance_metadata`.`value` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instance_metadata`.`instance_uuid` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instance_metadata`.`deleted`)), 'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `instance_metadata` WHERE
    `instance_metadata`.`id` IN (1, 2));
SELECT 'step 1: instance_metadata: rows now match the planned result' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_after <=> '2:13613443706423749474')) AS `ok`;

-- describe(): step 2/3 — delete 1 row of tags: hard-delete as instance_destroy does (table has no deleted column)
SET @fixpack_scope = (SELECT COUNT(*) FROM `tags` WHERE `tags`.`resource_id` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57'
    FOR UPDATE);
SET @fixpack_before = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(CONVERT(`tags`.`resource_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`tags`.`tag` USING
      utf8mb4))), 'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `tags` WHERE `tags`.`resource_id` =
    '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `tags`.`tag` = 'web' FOR UPDATE);
SET @fixpack_after = @fixpack_before;
SET @fixpack_state = CASE WHEN @fixpack_scope = 1 AND @fixpack_before = '1:4754654822129190736' THEN 'pending' WHEN
  @fixpack_after = '0:0' THEN 'done' ELSE 'drift' END;
SET @fixpack_chunk = COALESCE(@fixpack_chunk, @fixpack_state);
SELECT 'step 2: tags' AS `step`, @fixpack_state AS `state`;
SELECT 'step 2: tags: rows are as at generation (or the step is already done)' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT ((@fixpack_state <=> 'pending' OR @fixpack_state <=> 'done') AND @fixpack_state <=>
      @fixpack_chunk)) AS `ok`;
SET @fixpack_rc = 0;
DELETE FROM `tags`
WHERE (`tags`.`resource_id` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `tags`.`tag` = 'web') AND @fixpack_state =
  'pending';
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 2: tags: changed 1 row(s) if pending, none if done' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL
    WHERE NOT (@fixpack_rc <=> CASE WHEN @fixpack_state = 'pending' THEN 1 ELSE 0 END)) AS `ok`;
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(CONVERT(`tags`.`resource_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`tags`.`tag` USING
      utf8mb4))), 'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `tags` WHERE `tags`.`resource_id` =
    '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `tags`.`tag` = 'web');
SELECT 'step 2: tags: rows now match the planned result' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT
    (@fixpack_after <=> '0:0')) AS `ok`;

-- describe(): step 3/3 — update 1 row of instances: vm_state deleted, task_state NULL, power_state NOSTATE,
--   terminated_at, deleted = id
SET @fixpack_scope = (SELECT COUNT(*) FROM `instances` WHERE `instances`.`uuid` =
    '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' FOR UPDATE);
SET @fixpack_before = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(`instances`.`created_at`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`updated_at`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`deleted_at`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`id`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`internal_id`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`user_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`project_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`image_ref` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`kernel_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`ramdisk_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`launch_index`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`key_name` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`key_data` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`power_state`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`vm_state` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(`instances`.`memory_mb`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`vcpus`)),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`hostname` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`host` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`user_data`
      USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`reservation_id` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`launched_at`)), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`terminated_at`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`display_name` USING
      utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`display_description` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`availability_zone` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`locked`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`os_type` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`launched_on` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`instance_type_id`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`vm_mode` USING
      utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`uuid` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`architecture` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`root_device_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`access_ip_v4` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`access_ip_v6` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`config_drive` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`task_state` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`default_ephemeral_device` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`default_swap_device` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`progress`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`auto_disk_config`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`shutdown_terminate`)), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`disable_terminate`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`root_gb`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`ephemeral_gb`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`cell_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`node`
      USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`deleted`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`locked_by` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`cleaned`)),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`ephemeral_key_uuid` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`hidden`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`compute_id`)),
      'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `instances` WHERE `instances`.`id` IN (7) FOR UPDATE);
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(`instances`.`created_at`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`id`)), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`internal_id`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`user_id` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`project_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`image_ref` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`kernel_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`ramdisk_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`launch_index`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`key_name` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`key_data` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`power_state`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`vm_state` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(`instances`.`memory_mb`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`vcpus`)),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`hostname` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`host` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`user_data`
      USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`reservation_id` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`launched_at`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`display_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`display_description` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`availability_zone` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`locked`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`os_type` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`launched_on` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`instance_type_id`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`vm_mode` USING
      utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`uuid` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`architecture` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`root_device_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`access_ip_v4` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`access_ip_v6` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`config_drive` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`task_state` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`default_ephemeral_device` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`default_swap_device` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`progress`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`auto_disk_config`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`shutdown_terminate`)), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`disable_terminate`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`root_gb`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`ephemeral_gb`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`cell_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`node`
      USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`deleted`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`locked_by` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`cleaned`)),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`ephemeral_key_uuid` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`hidden`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`compute_id`)),
      'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `instances` WHERE `instances`.`id` IN (7));
SET @fixpack_state = CASE WHEN @fixpack_scope = 1 AND @fixpack_before = '1:1761919348886245126' THEN 'pending' WHEN
  @fixpack_after = '1:231458227221288056' THEN 'done' ELSE 'drift' END;
SET @fixpack_chunk = COALESCE(@fixpack_chunk, @fixpack_state);
SELECT 'step 3: instances' AS `step`, @fixpack_state AS `state`;
SELECT 'step 3: instances: rows are as at generation (or the step is already done)' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT ((@fixpack_state <=> 'pending' OR @fixpack_state <=> 'done') AND @fixpack_state <=>
      @fixpack_chunk)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `instances`
SET `instances`.`vm_state` = 'deleted', `instances`.`task_state` = NULL, `instances`.`power_state` = 0,
  `instances`.`terminated_at` = @fixpack_now, `instances`.`updated_at` = @fixpack_now, `instances`.`deleted` =
  `instances`.`id`, `instances`.`deleted_at` = @fixpack_now
WHERE (`instances`.`id` IN (7)) AND @fixpack_state = 'pending';
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 3: instances: changed 1 row(s) if pending, none if done' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> CASE WHEN @fixpack_state = 'pending' THEN 1 ELSE 0 END)) AS `ok`;
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS(',', COALESCE(CONCAT('v',
      HEX(`instances`.`created_at`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`id`)), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`internal_id`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`user_id` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`project_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`image_ref` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`kernel_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`ramdisk_id` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`launch_index`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`key_name` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`key_data` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`power_state`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`vm_state` USING utf8mb4))),
      'N'), COALESCE(CONCAT('v', HEX(`instances`.`memory_mb`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`vcpus`)),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`hostname` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`host` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`user_data`
      USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`reservation_id` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`launched_at`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`display_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`display_description` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`availability_zone` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`locked`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`os_type` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`launched_on` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`instance_type_id`)), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`vm_mode` USING
      utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`uuid` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`architecture` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`root_device_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`access_ip_v4` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`access_ip_v6` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`config_drive` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`task_state` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`default_ephemeral_device` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`default_swap_device` USING utf8mb4))), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`progress`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`auto_disk_config`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`shutdown_terminate`)), 'N'), COALESCE(CONCAT('v',
      HEX(`instances`.`disable_terminate`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`root_gb`)), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`ephemeral_gb`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`cell_name` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`node`
      USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`deleted`)), 'N'), COALESCE(CONCAT('v',
      HEX(CONVERT(`instances`.`locked_by` USING utf8mb4))), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`cleaned`)),
      'N'), COALESCE(CONCAT('v', HEX(CONVERT(`instances`.`ephemeral_key_uuid` USING utf8mb4))), 'N'),
      COALESCE(CONCAT('v', HEX(`instances`.`hidden`)), 'N'), COALESCE(CONCAT('v', HEX(`instances`.`compute_id`)),
      'N')), 256), 16), 16, 10) AS UNSIGNED))) FROM `instances` WHERE `instances`.`id` IN (7));
SELECT 'step 3: instances: rows now match the planned result' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE
    NOT (@fixpack_after <=> '1:231458227221288056')) AS `ok`;

SELECT 'apply chunk 1/1' AS `chunk`, CASE WHEN @fixpack_chunk = 'pending' THEN 'applied' ELSE
  'already done; nothing changed' END AS `result`;
SET @fixpack_changed = @fixpack_changed + IF(@fixpack_chunk = 'pending', 1, 0);
COMMIT;

SELECT 'apply finished: every guard held' AS `fixpack`;
