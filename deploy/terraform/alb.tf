# Internet-facing Application Load Balancer in the public subnets. HTTPS only: the 443 listener terminates
# TLS with the ACM certificate and a TLS 1.2+/1.3 policy; the 80 listener answers every request with a
# permanent redirect to https:// and forwards nothing. Invalid header fields are dropped, desync
# mitigation is strict, access logs go to the logs bucket. A WAF web ACL is associated when one is given.

resource "aws_lb" "main" {
  #checkov:skip=CKV2_AWS_28:WAF is optional by design (var.waf_web_acl_arn, associated below): the managed rule sets block legitimate clinical note bodies (e.g. SizeRestrictions_BODY above 8 KB) and need tuning per deployment, so the operator brings a tuned web ACL instead of this module enabling a default that breaks the API.
  #checkov:skip=CKV2_AWS_76:Follows from CKV2_AWS_28 above: the Log4j managed rule group belongs in the operator's web ACL when one is attached; the API itself is a Swift binary with no JVM or Log4j to exploit.
  name               = "${local.name}-alb"
  internal           = false
  load_balancer_type = "application"
  security_groups    = [aws_security_group.alb.id]
  subnets            = aws_subnet.public[*].id

  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = true
  enable_http2               = true
  idle_timeout               = var.alb_idle_timeout

  access_logs {
    bucket  = aws_s3_bucket.logs.id
    prefix  = "alb"
    enabled = true
  }

  tags = { Name = "${local.name}-alb" }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_lb_target_group" "api" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the load balancer; the hop to the tasks is plain HTTP on 8080 inside the VPC's private application subnets, which only the load balancer (and an optional in-VPC metrics scraper) may reach. The API serves no TLS itself (Dockerfile: serve --port 8080).
  name                 = "${local.name}-api"
  port                 = local.container_port
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  # /ready checks the database as well; a task that cannot reach PostgreSQL gets no traffic.
  health_check {
    enabled             = true
    path                = "/ready"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { Name = "${local.name}-api" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }

  tags = { Name = "${local.name}-https" }
}

# /metrics is for Prometheus inside the VPC, not for the internet (it is token-protected all the same).
resource "aws_lb_listener_rule" "block_metrics" {
  count = var.block_metrics_path ? 1 : 0

  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*"]
    }
  }

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      status_code  = "404"
      message_body = "Not Found"
    }
  }

  tags = { Name = "${local.name}-block-metrics" }
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }

  tags = { Name = "${local.name}-http-redirect" }
}

resource "aws_wafv2_web_acl_association" "alb" {
  count = var.waf_web_acl_arn == null ? 0 : 1

  resource_arn = aws_lb.main.arn
  web_acl_arn  = var.waf_web_acl_arn
}
