# Secrets Manager secrets the API reads at start-up (ECS injects them as environment variables through the
# task definition's `secrets` block; they never appear in the task definition, the state or the image).
#
# Terraform creates each secret EMPTY (no aws_secretsmanager_secret_version here, on purpose: a value in
# Terraform would also be written in plain text to the state). An operator fills them once, out of band,
# with `aws secretsmanager put-secret-value` (README.md, "Fill the secrets"). The service does not start
# until they are filled: production refuses to run without them.
#
# Encryption: the data KMS key. Only the ECS task execution role may read them (ecs.tf).
#
# Rotation (why there is no automatic rotation Lambda): each of these values is tied to data or to
# clients, so a blind scheduled swap would break the service instead of protecting it:
#   database-url     the application role's connection string. Rotate by setting a new password on the role
#                    (psql \password, so the log records only a hash), putting the new URL, and forcing a
#                    new deployment. The RDS master password is separate and IS rotated automatically by RDS
#                    (manage_master_user_password, rds.tf).
#   jwt-private-key  ES256 signing key. Rotate by putting a new key and redeploying: access tokens signed
#                    with the old key lapse within 15 minutes and clients refresh (refresh tokens are opaque).
#   master-key       wraps every practice's data keys. Rotating it means re-wrapping tenant_keys with the
#                    new key, which the application does not offer yet (docs/operations.md, Keys); practice
#                    data keys are rotated by `ehr keys rotate` instead. Never overwrite it on its own.
#   audit-key        seals the audit chain; old checkpoints are verified with it. Change only with a
#                    documented audit-key rollover and keep the old value (Secrets Manager keeps versions).
#   metrics-token    bearer token of /metrics. Rotate by putting a new one, redeploying, then updating the
#                    scraper.
#   turn-secret      EHR_TURN_SECRET (aws_secretsmanager_secret.turn below): the TURN REST API secret shared
#                    with the televisit TURN server (coturn's static-auth-secret). Rotate without a gap: add
#                    the new value to the TURN server next to the old one (coturn accepts several
#                    static-auth-secret lines), put it here and redeploy, wait until every credential issued
#                    with the old one has expired (at most 4 hours), then remove the old one from the server.

locals {
  app_secrets = {
    database_url = {
      name        = "database-url"
      env         = "DATABASE_URL"
      description = "DATABASE_URL of the application role: postgres://ehr_app:PASSWORD@<db_address>:5432/ehr?sslmode=verify-full"
    }
    jwt_private_key = {
      name        = "jwt-private-key"
      env         = "EHR_JWT_PRIVATE_KEY"
      description = "EHR_JWT_PRIVATE_KEY: ES256 (P-256) private key, PKCS#8 PEM"
    }
    master_key = {
      name        = "master-key"
      env         = "EHR_MASTER_KEY"
      description = "EHR_MASTER_KEY: 32 random bytes, base64; wraps every practice's data keys"
    }
    audit_key = {
      name        = "audit-key"
      env         = "EHR_AUDIT_KEY"
      description = "EHR_AUDIT_KEY: 32 random bytes, base64; seals the audit chain"
    }
    metrics_token = {
      name        = "metrics-token"
      env         = "EHR_METRICS_TOKEN"
      description = "EHR_METRICS_TOKEN: bearer token for GET /metrics, at least 16 characters"
    }
  }
}

resource "aws_secretsmanager_secret" "app" {
  for_each = local.app_secrets
  #checkov:skip=CKV2_AWS_57:No rotation Lambda on purpose: each value is bound to data or clients (master key wraps the practices' data keys, audit key seals the chain, JWT key signs live tokens, the URL carries the app role's password) and is rotated by the procedure written in the header of secrets.tf; the RDS master password is rotated by RDS itself (manage_master_user_password).

  name                    = "${local.name}/${each.value.name}"
  description             = each.value.description
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = 30

  tags = { Name = "${local.name}/${each.value.name}", EnvironmentVariable = each.value.env }
}

# EHR_TURN_SECRET, only when the televisit clients are handed a TURN server (a turn: or turns: URL in
# turn_urls; stun: URLs need no credential, and the API asks for the secret only with a TURN URL). Same
# handling as the secrets above: created empty, filled out of band with the value the TURN server has as its
# static-auth-secret (README.md, Televisit TURN server), injected by ecs.tf.
locals {
  turn_relay_enabled = anytrue([for url in var.turn_urls : can(regex("^turns?:", url))])
}

resource "aws_secretsmanager_secret" "turn" {
  count = local.turn_relay_enabled ? 1 : 0
  #checkov:skip=CKV2_AWS_57:No rotation Lambda on purpose: the value is shared with the TURN server outside this module (its static-auth-secret), so a blind swap here would break every televisit relay; it is rotated without a gap by the procedure written in the header of secrets.tf (both values on the TURN server until the old credentials expire).

  name                    = "${local.name}/turn-secret"
  description             = "EHR_TURN_SECRET: TURN REST API secret shared with the TURN server (coturn static-auth-secret), at least 32 characters"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = 30

  tags = { Name = "${local.name}/turn-secret", EnvironmentVariable = "EHR_TURN_SECRET" }
}
