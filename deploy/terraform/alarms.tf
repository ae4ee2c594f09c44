# Alarm on the load balancer's 5xx ratio, notifying a KMS-encrypted SNS topic.
#
#   error rate % = 100 * (HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count) / RequestCount
#
# per minute; it fires when it is above alarm_5xx_threshold_percent (1%) in alarm_5xx_minutes (5)
# consecutive minutes, and clears the same way. Minutes with fewer than alarm_5xx_min_requests requests count
# as 0% so that one failed request at night does not page; minutes with no data are "not breaching". This is
# the CloudWatch twin of the EHRHighErrorRate Prometheus alert (docs/operations.md, Alerts).

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.logs.arn

  tags = { Name = "${local.name}-alarms" }
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarmsOfThisAccountPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "alb_5xx_ratio" {
  alarm_name        = "${local.name}-alb-5xx-ratio"
  alarm_description = "More than ${var.alarm_5xx_threshold_percent}% of requests answered 5xx (load balancer + targets) for ${var.alarm_5xx_minutes} minutes. Runbook: docs/operations.md, Alerts (EHRHighErrorRate)."

  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_5xx_threshold_percent
  evaluation_periods  = var.alarm_5xx_minutes
  datapoints_to_alarm = var.alarm_5xx_minutes
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "error_rate"
    label       = "5xx % of requests"
    return_data = true
    expression  = "IF(requests >= ${var.alarm_5xx_min_requests}, 100 * (FILL(elb_5xx, 0) + FILL(target_5xx, 0)) / requests, 0)"
  }

  metric_query {
    id          = "requests"
    label       = "RequestCount"
    expression  = "FILL(request_count, 0)"
    return_data = false
  }

  metric_query {
    id = "request_count"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix }
    }
  }

  metric_query {
    id = "elb_5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix }
    }
  }

  metric_query {
    id = "target_5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix }
    }
  }

  tags = { Name = "${local.name}-alb-5xx-ratio" }
}
