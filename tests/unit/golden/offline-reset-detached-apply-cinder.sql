-- fixpack <version> | volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 | op reset-detached | phase apply
-- database: Cinder database (db:cinder), release 2025.1, offline generation
-- run exactly: mysql --batch <connection options> '<cinder database>' < sql/20-apply-cinder.sql
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
SET @fixpack_check = (
  SELECT COUNT(*)
  FROM `information_schema`.`TABLES`
  WHERE
    `TABLES`.`TABLE_SCHEMA` = DATABASE()
    AND `TABLES`.`TABLE_NAME` IN ('volume_attachment', 'volumes')
);
SELECT
  'the Cinder database: tables volume_attachment, volumes' AS `expected`,
  CONCAT(
    'service tables here: ',
    (
      SELECT
        COALESCE(
          GROUP_CONCAT(`TABLES`.`TABLE_NAME` ORDER BY `TABLES`.`TABLE_NAME` SEPARATOR ', '),
          'none'
        )
      FROM `information_schema`.`TABLES`
      WHERE
        `TABLES`.`TABLE_SCHEMA` = DATABASE()
        AND `TABLES`.`TABLE_NAME` IN (
          'cell_mappings',
          'compute_nodes',
          'consumer_types',
          'instance_mappings',
          'instances',
          'volume_attachment',
          'volumes'
        )
    )
  ) AS `found`
FROM DUAL
WHERE
  NOT (
    @fixpack_check <=> 2
  );
SELECT
  'identity: the Cinder database (tables volume_attachment, volumes)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_check <=> 2
      )
  ) AS `ok`;
-- identity 2/3: the tables this file touches have exactly the columns of release 2025.1 (fixpack catalog):
--   attachment_specs (8), volume_admin_metadata (8), volume_attachment (15), volumes (40). Each line below is
--   `table column DATA_TYPE NULL|NOT NULL` (no display widths, no defaults; json counts as longtext, as MariaDB
--   stores it); on a difference every line missing or not expected is printed
SET @fixpack_check = (
  SELECT GROUP_CONCAT(`d`.`diff` ORDER BY `d`.`diff` SEPARATOR '; ')
  FROM (
    SELECT
      CONCAT(
        IF(
          `s`.`spec` IN (
            SELECT
              CONCAT_WS(
                ' ',
                CAST(`COLUMNS`.`TABLE_NAME` AS CHAR),
                CAST(`COLUMNS`.`COLUMN_NAME` AS CHAR),
                CAST(IF(`COLUMNS`.`DATA_TYPE` = 'json', 'longtext', `COLUMNS`.`DATA_TYPE`) AS CHAR),
                IF(`COLUMNS`.`IS_NULLABLE` = 'YES', 'NULL', 'NOT NULL')
              ) AS `spec`
            FROM `information_schema`.`COLUMNS`
            WHERE
              `COLUMNS`.`TABLE_SCHEMA` = DATABASE()
              AND `COLUMNS`.`TABLE_NAME` IN (
                'attachment_specs',
                'volume_admin_metadata',
                'volume_attachment',
                'volumes'
              )
          ),
          'not expected: ',
          'missing: '
        ),
        `s`.`spec`
      ) AS `diff`
    FROM (
      SELECT
        CONCAT_WS(
          ' ',
          CAST(`COLUMNS`.`TABLE_NAME` AS CHAR),
          CAST(`COLUMNS`.`COLUMN_NAME` AS CHAR),
          CAST(IF(`COLUMNS`.`DATA_TYPE` = 'json', 'longtext', `COLUMNS`.`DATA_TYPE`) AS CHAR),
          IF(`COLUMNS`.`IS_NULLABLE` = 'YES', 'NULL', 'NOT NULL')
        ) AS `spec`
      FROM `information_schema`.`COLUMNS`
      WHERE
        `COLUMNS`.`TABLE_SCHEMA` = DATABASE()
        AND `COLUMNS`.`TABLE_NAME` IN (
          'attachment_specs',
          'volume_admin_metadata',
          'volume_attachment',
          'volumes'
        )
      UNION ALL
      SELECT 'attachment_specs created_at datetime NULL'
      UNION ALL
      SELECT 'attachment_specs updated_at datetime NULL'
      UNION ALL
      SELECT 'attachment_specs deleted_at datetime NULL'
      UNION ALL
      SELECT 'attachment_specs deleted tinyint NULL'
      UNION ALL
      SELECT 'attachment_specs id int NOT NULL'
      UNION ALL
      SELECT 'attachment_specs attachment_id varchar NOT NULL'
      UNION ALL
      SELECT 'attachment_specs key varchar NULL'
      UNION ALL
      SELECT 'attachment_specs value varchar NULL'
      UNION ALL
      SELECT 'volume_admin_metadata created_at datetime NULL'
      UNION ALL
      SELECT 'volume_admin_metadata updated_at datetime NULL'
      UNION ALL
      SELECT 'volume_admin_metadata deleted_at datetime NULL'
      UNION ALL
      SELECT 'volume_admin_metadata deleted tinyint NULL'
      UNION ALL
      SELECT 'volume_admin_metadata id int NOT NULL'
      UNION ALL
      SELECT 'volume_admin_metadata volume_id varchar NOT NULL'
      UNION ALL
      SELECT 'volume_admin_metadata key varchar NULL'
      UNION ALL
      SELECT 'volume_admin_metadata value varchar NULL'
      UNION ALL
      SELECT 'volume_attachment created_at datetime NULL'
      UNION ALL
      SELECT 'volume_attachment updated_at datetime NULL'
      UNION ALL
      SELECT 'volume_attachment deleted_at datetime NULL'
      UNION ALL
      SELECT 'volume_attachment deleted tinyint NULL'
      UNION ALL
      SELECT 'volume_attachment id varchar NOT NULL'
      UNION ALL
      SELECT 'volume_attachment volume_id varchar NOT NULL'
      UNION ALL
      SELECT 'volume_attachment attached_host varchar NULL'
      UNION ALL
      SELECT 'volume_attachment instance_uuid varchar NULL'
      UNION ALL
      SELECT 'volume_attachment mountpoint varchar NULL'
      UNION ALL
      SELECT 'volume_attachment attach_time datetime NULL'
      UNION ALL
      SELECT 'volume_attachment detach_time datetime NULL'
      UNION ALL
      SELECT 'volume_attachment attach_mode varchar NULL'
      UNION ALL
      SELECT 'volume_attachment attach_status varchar NULL'
      UNION ALL
      SELECT 'volume_attachment connection_info text NULL'
      UNION ALL
      SELECT 'volume_attachment connector text NULL'
      UNION ALL
      SELECT 'volumes created_at datetime NULL'
      UNION ALL
      SELECT 'volumes updated_at datetime NULL'
      UNION ALL
      SELECT 'volumes deleted_at datetime NULL'
      UNION ALL
      SELECT 'volumes deleted tinyint NULL'
      UNION ALL
      SELECT 'volumes id varchar NOT NULL'
      UNION ALL
      SELECT 'volumes ec2_id varchar NULL'
      UNION ALL
      SELECT 'volumes user_id varchar NULL'
      UNION ALL
      SELECT 'volumes project_id varchar NULL'
      UNION ALL
      SELECT 'volumes host varchar NULL'
      UNION ALL
      SELECT 'volumes size int NULL'
      UNION ALL
      SELECT 'volumes availability_zone varchar NULL'
      UNION ALL
      SELECT 'volumes status varchar NULL'
      UNION ALL
      SELECT 'volumes attach_status varchar NULL'
      UNION ALL
      SELECT 'volumes scheduled_at datetime NULL'
      UNION ALL
      SELECT 'volumes launched_at datetime NULL'
      UNION ALL
      SELECT 'volumes terminated_at datetime NULL'
      UNION ALL
      SELECT 'volumes display_name varchar NULL'
      UNION ALL
      SELECT 'volumes display_description varchar NULL'
      UNION ALL
      SELECT 'volumes provider_location varchar NULL'
      UNION ALL
      SELECT 'volumes provider_auth varchar NULL'
      UNION ALL
      SELECT 'volumes snapshot_id varchar NULL'
      UNION ALL
      SELECT 'volumes volume_type_id varchar NOT NULL'
      UNION ALL
      SELECT 'volumes source_volid varchar NULL'
      UNION ALL
      SELECT 'volumes bootable tinyint NULL'
      UNION ALL
      SELECT 'volumes provider_geometry varchar NULL'
      UNION ALL
      SELECT 'volumes _name_id varchar NULL'
      UNION ALL
      SELECT 'volumes encryption_key_id varchar NULL'
      UNION ALL
      SELECT 'volumes migration_status varchar NULL'
      UNION ALL
      SELECT 'volumes replication_status varchar NULL'
      UNION ALL
      SELECT 'volumes replication_extended_status varchar NULL'
      UNION ALL
      SELECT 'volumes replication_driver_data varchar NULL'
      UNION ALL
      SELECT 'volumes consistencygroup_id varchar NULL'
      UNION ALL
      SELECT 'volumes provider_id varchar NULL'
      UNION ALL
      SELECT 'volumes multiattach tinyint NULL'
      UNION ALL
      SELECT 'volumes previous_status varchar NULL'
      UNION ALL
      SELECT 'volumes cluster_name varchar NULL'
      UNION ALL
      SELECT 'volumes group_id varchar NULL'
      UNION ALL
      SELECT 'volumes service_uuid varchar NULL'
      UNION ALL
      SELECT 'volumes shared_targets tinyint NULL'
      UNION ALL
      SELECT 'volumes use_quota tinyint NOT NULL'
    ) AS `s`
    GROUP BY
      `s`.`spec`
    HAVING
      COUNT(*) = 1
  ) AS `d`
);
SELECT
  'the columns of release 2025.1 (fixpack catalog)' AS `expected`,
  @fixpack_check AS `found`
FROM DUAL
WHERE
  NOT (
    @fixpack_check IS NULL
  );
SELECT
  'identity: the tables have the columns of release 2025.1 (fixpack catalog)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_check IS NULL
      )
  ) AS `ok`;
-- identity 3/3: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database (this is what tells the right
--   database)
SET @fixpack_check = (
  SELECT COUNT(*)
  FROM `volumes`
  WHERE
    `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
);
SELECT
  'volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 in volumes here' AS `expected`,
  CONCAT(CAST(@fixpack_check AS CHAR), ' row(s) in volumes') AS `found`
FROM DUAL
WHERE
  NOT (
    (
      @fixpack_check > 0
    ) <=> TRUE
  );
SELECT
  'identity: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        (
          @fixpack_check > 0
        ) <=> TRUE
      )
  ) AS `ok`;

START TRANSACTION;
SET @fixpack_now = UTC_TIMESTAMP();
-- precondition: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database
SELECT
  'volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        (
          SELECT COUNT(*)
          FROM `volumes`
          WHERE
            `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
        ) = 1
      )
  ) AS `ok`;
-- precondition: no transitional status changed less than 1h ago (--allow-recent-transition, --stale-after)
SELECT
  'no transitional status changed less than 1h ago (--allow-recent-transition, --stale-after)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        (
          SELECT COUNT(*)
          FROM `volumes`
          WHERE
            `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
            AND `volumes`.`deleted` = 0
            AND `volumes`.`status` IN (
              'creating',
              'deleting',
              'error_managing_deleting',
              'unmanaging',
              'managing',
              'attaching',
              'detaching',
              'maintenance',
              'backing-up',
              'restoring-backup',
              'downloading',
              'uploading',
              'retyping',
              'extending'
            )
            AND `volumes`.`updated_at` > UTC_TIMESTAMP() - INTERVAL 3600 SECOND
        ) = 0
      )
  ) AS `ok`;
-- precondition: the volume is not being migrated (--allow-migrating to override)
SELECT
  'the volume is not being migrated (--allow-migrating to override)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        (
          SELECT COUNT(*)
          FROM `volumes`
          WHERE
            `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
            AND `volumes`.`deleted` = 0
            AND (
              `volumes`.`migration_status` IN ('starting', 'migrating', 'completing')
              OR `volumes`.`migration_status` LIKE 'target:%'
            )
        ) = 0
      )
  ) AS `ok`;

-- step 1: attachment_specs: soft-delete the legacy connector specs, as Cinder does when it loads the attachment —
--   rows: live specs of the attachments to close
SET @fixpack_scope = (
  SELECT COUNT(*)
  FROM `attachment_specs`
  WHERE
    `attachment_specs`.`deleted` = 0
    AND `attachment_specs`.`attachment_id` IN (
      SELECT `volume_attachment`.`id`
      FROM `volume_attachment`
      WHERE
        `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
        AND `volume_attachment`.`deleted` = 0
    )
  FOR UPDATE
);
SELECT
  'step 1: attachment_specs' AS `step`,
  @fixpack_scope AS `rows_found`;
SELECT
  'step 1: attachment_specs: at most 1000 rows (offline bundles repair one target)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_scope <= 1000
      )
  ) AS `ok`;
SET @fixpack_rc = 0;
-- attachment_specs has no index on the scope's columns, so safe-update mode would refuse this statement: it is
--   keyed on the target UUID (lint FX001) and its row count is guarded before and after, so safe updates are off
--   for this one statement
SET SESSION sql_safe_updates = 0;
UPDATE `attachment_specs`
SET
  `attachment_specs`.`deleted` = 1,
  `attachment_specs`.`deleted_at` = @fixpack_now
WHERE
  `attachment_specs`.`deleted` = 0
  AND `attachment_specs`.`attachment_id` IN (
    SELECT `volume_attachment`.`id`
    FROM `volume_attachment`
    WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
      AND `volume_attachment`.`deleted` = 0
  );
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SET SESSION sql_safe_updates = 1;
SELECT
  'step 1: attachment_specs: changed every row found' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_rc <=> @fixpack_scope
      )
  ) AS `ok`;
SET @fixpack_after = (
  SELECT COUNT(*)
  FROM `attachment_specs`
  WHERE
    `attachment_specs`.`deleted` = 0
    AND `attachment_specs`.`attachment_id` IN (
      SELECT `volume_attachment`.`id`
      FROM `volume_attachment`
      WHERE
        `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
        AND `volume_attachment`.`deleted` = 0
    )
);
SELECT
  'step 1: attachment_specs: no row is left needing the change' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_after <=> 0
      )
  ) AS `ok`;

-- step 2: volume_attachment: close the attachment as volume_detached does (VolumeAttachment.delete_values) — rows:
--   live attachments to close
SET @fixpack_scope = (
  SELECT COUNT(*)
  FROM `volume_attachment`
  WHERE
    `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
    AND `volume_attachment`.`deleted` = 0
  FOR UPDATE
);
SELECT
  'step 2: volume_attachment' AS `step`,
  @fixpack_scope AS `rows_found`;
SELECT
  'step 2: volume_attachment: at most 1000 rows (offline bundles repair one target)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_scope <= 1000
      )
  ) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_attachment`
SET
  `volume_attachment`.`attach_status` = 'detached',
  `volume_attachment`.`deleted` = 1,
  `volume_attachment`.`deleted_at` = @fixpack_now,
  `volume_attachment`.`detach_time` = @fixpack_now
WHERE
  `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
  AND `volume_attachment`.`deleted` = 0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT
  'step 2: volume_attachment: changed every row found' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_rc <=> @fixpack_scope
      )
  ) AS `ok`;
SET @fixpack_after = (
  SELECT COUNT(*)
  FROM `volume_attachment`
  WHERE
    `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
    AND `volume_attachment`.`deleted` = 0
);
SELECT
  'step 2: volume_attachment: no row is left needing the change' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_after <=> 0
      )
  ) AS `ok`;

-- step 3: volume_admin_metadata: forget the attach mode, as finish_detach does — rows: live attached_mode admin
--   metadata
SET @fixpack_scope = (
  SELECT COUNT(*)
  FROM `volume_admin_metadata`
  WHERE
    `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
    AND `volume_admin_metadata`.`key` = 'attached_mode'
    AND `volume_admin_metadata`.`deleted` = 0
  FOR UPDATE
);
SELECT
  'step 3: volume_admin_metadata' AS `step`,
  @fixpack_scope AS `rows_found`;
SELECT
  'step 3: volume_admin_metadata: at most 1000 rows (offline bundles repair one target)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_scope <= 1000
      )
  ) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_admin_metadata`
SET
  `volume_admin_metadata`.`deleted` = 1,
  `volume_admin_metadata`.`deleted_at` = @fixpack_now
WHERE
  `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
  AND `volume_admin_metadata`.`key` = 'attached_mode'
  AND `volume_admin_metadata`.`deleted` = 0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT
  'step 3: volume_admin_metadata: changed every row found' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_rc <=> @fixpack_scope
      )
  ) AS `ok`;
SET @fixpack_after = (
  SELECT COUNT(*)
  FROM `volume_admin_metadata`
  WHERE
    `volume_admin_metadata`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
    AND `volume_admin_metadata`.`key` = 'attached_mode'
    AND `volume_admin_metadata`.`deleted` = 0
);
SELECT
  'step 3: volume_admin_metadata: no row is left needing the change' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_after <=> 0
      )
  ) AS `ok`;

-- step 4: volumes: status and attach_status from the attachments that stay — rows: the volume, unless its status
--   already follows from the attachments that stay
SET @fixpack_scope = (
  SELECT COUNT(*)
  FROM `volumes`
  WHERE
    `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
    AND `volumes`.`deleted` = 0
    AND (
      NOT `volumes`.`status` <=> 'available'
      OR NOT `volumes`.`attach_status` <=> 'detached'
    )
  FOR UPDATE
);
SELECT
  'step 4: volumes' AS `step`,
  @fixpack_scope AS `rows_found`;
SELECT
  'step 4: volumes: at most 1000 rows (offline bundles repair one target)' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_scope <= 1000
      )
  ) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volumes`
SET
  `volumes`.`status` = 'available',
  `volumes`.`attach_status` = 'detached',
  `volumes`.`updated_at` = @fixpack_now
WHERE
  `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
  AND `volumes`.`deleted` = 0
  AND (
    NOT `volumes`.`status` <=> 'available'
    OR NOT `volumes`.`attach_status` <=> 'detached'
  );
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT
  'step 4: volumes: changed every row found' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_rc <=> @fixpack_scope
      )
  ) AS `ok`;
SET @fixpack_after = (
  SELECT COUNT(*)
  FROM `volumes`
  WHERE
    `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60'
    AND `volumes`.`deleted` = 0
    AND (
      NOT `volumes`.`status` <=> 'available'
      OR NOT `volumes`.`attach_status` <=> 'detached'
    )
);
SELECT
  'step 4: volumes: no row is left needing the change' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_after <=> 0
      )
  ) AS `ok`;

SELECT 'apply finished: every guard held' AS `fixpack`;
COMMIT;
