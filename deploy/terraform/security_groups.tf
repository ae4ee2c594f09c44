# Least-privilege security groups, one per tier, rules as separate resources:
#   load balancer  in:  443 (and 80, redirect only) from alb_ingress_cidrs
#                  out: 8080 to the ECS tasks only
#   ECS tasks      in:  8080 from the load balancer (and the optional Prometheus scraper's group)
#                  out: 5432 to RDS, 443 to AWS APIs (through the NAT gateway)
#   RDS            in:  5432 from the ECS tasks only
#                  out: nothing

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "Load balancer: HTTPS (and the HTTP redirect) from the allowed CIDRs, to the API tasks only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-alb" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "ecs" {
  name        = "${local.name}-ecs"
  description = "API tasks: 8080 from the load balancer; out to PostgreSQL and HTTPS AWS APIs"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-ecs" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "rds" {
  name        = "${local.name}-rds"
  description = "PostgreSQL: 5432 from the API tasks only; no outbound rule"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-rds" }

  lifecycle {
    create_before_destroy = true
  }
}

# ---------------------------------------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = toset(var.alb_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "alb_http_redirect" {
  for_each = toset(var.alb_ingress_cidrs)
  #checkov:skip=CKV_AWS_260:Port 80 reaches only the listener that answers 301 to https:// (alb.tf, CKV2_AWS_20 passes); no request is ever forwarded over HTTP, and closing it would turn plain-http links into timeouts instead of redirects.

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from ${each.value}, answered only with a redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "alb_to_ecs" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the API tasks on the container port"
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
  referenced_security_group_id = aws_security_group.ecs.id
}

# ---------------------------------------------------------------------------------------------------------
# ECS tasks
# ---------------------------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "ecs_from_alb" {
  security_group_id            = aws_security_group.ecs.id
  description                  = "From the load balancer on the container port"
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_ingress_rule" "ecs_from_metrics_scraper" {
  count = var.metrics_scraper_security_group_id == null ? 0 : 1

  security_group_id            = aws_security_group.ecs.id
  description                  = "From the Prometheus scraper on the container port (GET /metrics)"
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
  referenced_security_group_id = var.metrics_scraper_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "ecs_to_rds" {
  security_group_id            = aws_security_group.ecs.id
  description                  = "To PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.rds.id
}

resource "aws_vpc_security_group_egress_rule" "ecs_to_aws_apis" {
  security_group_id = aws_security_group.ecs.id
  description       = "HTTPS to AWS APIs through the NAT gateway (ECR, Secrets Manager, CloudWatch Logs)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# ---------------------------------------------------------------------------------------------------------
# RDS
# ---------------------------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "rds_from_ecs" {
  security_group_id            = aws_security_group.rds.id
  description                  = "PostgreSQL from the API tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.ecs.id
}
