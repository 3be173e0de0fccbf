from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from resonanz.accounts import api as accounts
from resonanz.ads import api as ads
from resonanz.advocacy import api as advocacy
from resonanz.analytics import api as analytics
from resonanz.approvals import api as approvals
from resonanz.campaigns import api as campaigns
from resonanz.channels import api as channels
from resonanz.engagement import api as engagement
from resonanz.forecasting import api as forecasting
from resonanz.leads import api as leads
from resonanz.links import api as links
from resonanz.posts import api as posts
from resonanz.reports import api as reports

app_name = "api"
ws = "workspaces/<int:workspace_id>/"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("workspaces/", accounts.WorkspaceListApi.as_view(), name="workspaces"),
    path(ws, accounts.WorkspaceDetailApi.as_view(), name="workspace"),
    path(ws + "channels/", channels.ChannelListApi.as_view(), name="channels"),
    path(ws + "networks/", channels.NetworkListApi.as_view(), name="networks"),
    path(ws + "channels/<int:channel_id>/", channels.ChannelDetailApi.as_view(), name="channel"),
    # After the numeric route: /channels/<network>/ connects an account of a registered network.
    path(ws + "channels/<slug:network>/", channels.ChannelConnectApi.as_view(), name="channel-connect"),
    path(
        ws + "channels/<int:channel_id>/verify/", channels.ChannelVerifyApi.as_view(), name="channel-verify"
    ),
    path(ws + "channels/<int:channel_id>/queue-slots/", channels.QueueSlotsApi.as_view(), name="queue-slots"),
    path(ws + "media/", posts.MediaUploadApi.as_view(), name="media"),
    path(ws + "media/<int:asset_id>/crop/", posts.MediaCropApi.as_view(), name="media-crop"),
    path(ws + "posts/", posts.PostListApi.as_view(), name="posts"),
    path(ws + "posts/validate/", posts.PostValidateDraftApi.as_view(), name="posts-validate"),
    path(ws + "posts/<int:post_id>/", posts.PostDetailApi.as_view(), name="post"),
    path(ws + "posts/<int:post_id>/validate/", posts.PostValidateApi.as_view(), name="post-validate"),
    path(ws + "posts/<int:post_id>/schedule/", posts.PostScheduleApi.as_view(), name="post-schedule"),
    path(ws + "posts/<int:post_id>/cancel/", posts.PostCancelApi.as_view(), name="post-cancel"),
    path(ws + "posts/<int:post_id>/submit/", posts.PostSubmitApi.as_view(), name="post-submit"),
    path(ws + "posts/<int:post_id>/approve/", posts.PostApproveApi.as_view(), name="post-approve"),
    path(ws + "posts/<int:post_id>/reject/", posts.PostRejectApi.as_view(), name="post-reject"),
    path(ws + "posts/<int:post_id>/events/", posts.PostEventsApi.as_view(), name="post-events"),
    path(
        ws + "posts/<int:post_id>/engagement/refresh/",
        engagement.PostEngagementRefreshApi.as_view(),
        name="post-engagement-refresh",
    ),
    path(
        ws + "variants/<int:variant_id>/metrics/",
        engagement.VariantMetricsApi.as_view(),
        name="variant-metrics",
    ),
    path(
        ws + "variants/<int:variant_id>/<str:action>/",
        posts.VariantRemoteApi.as_view(),
        name="variant-action",
    ),
    path(ws + "approval-settings/", approvals.ApprovalSettingsApi.as_view(), name="approval-settings"),
    path(ws + "posts/<int:post_id>/approval/", approvals.ApprovalApi.as_view(), name="post-approval"),
    path(ws + "posts/<int:post_id>/decisions/", approvals.DecisionApi.as_view(), name="post-decisions"),
    path(
        ws + "posts/<int:post_id>/review-links/", approvals.ReviewLinkListApi.as_view(), name="review-links"
    ),
    path(
        ws + "posts/<int:post_id>/review-links/<int:link_id>/revoke/",
        approvals.ReviewLinkRevokeApi.as_view(),
        name="review-link-revoke",
    ),
    path(ws + "conversations/", engagement.ConversationListApi.as_view(), name="conversations"),
    path(
        ws + "conversations/<int:conversation_id>/messages/<int:message_id>/<slug:action>/",
        engagement.MessageActionApi.as_view(),
        name="message-action",
    ),
    path(ws + "conversations/bulk/", engagement.ConversationBulkApi.as_view(), name="conversations-bulk"),
    path(ws + "inbox-settings/", engagement.InboxSettingsApi.as_view(), name="inbox-settings"),
    path(ws + "inbox-person/", engagement.PersonExportApi.as_view(), name="inbox-person"),
    path(ws + "inbox-person/erase/", engagement.PersonEraseApi.as_view(), name="inbox-person-erase"),
    path(ws + "inbox-rules/", engagement.RuleListApi.as_view(), name="inbox-rules"),
    path(ws + "inbox-rules/preview/", engagement.RulePreviewApi.as_view(), name="inbox-rules-preview"),
    path(ws + "inbox-rules/<int:rule_id>/", engagement.RuleDetailApi.as_view(), name="inbox-rule"),
    path(ws + "analytics/", analytics.AnalyticsApi.as_view(), name="analytics"),
    path(ws + "campaigns/", campaigns.CampaignListApi.as_view(), name="campaigns"),
    path(ws + "best-times/", forecasting.BestTimesApi.as_view(), name="best_times"),
    path(ws + "forecast/", forecasting.ForecastApi.as_view(), name="forecast"),
    path(ws + "ads/budgets/", ads.BudgetListApi.as_view(), name="ad_budgets"),
    path(ws + "ads/budgets/<int:budget_id>/", ads.BudgetDetailApi.as_view(), name="ad_budget"),
    path(ws + "ads/spend/", ads.SpendListApi.as_view(), name="ad_spend"),
    path(ws + "ads/spend/import/", ads.SpendImportApi.as_view(), name="ad_spend_import"),
    path(ws + "ads/figures/", ads.FiguresApi.as_view(), name="ad_figures"),
    path(ws + "ads/channels/<int:channel_id>/sync/", ads.ChannelSyncApi.as_view(), name="ad_sync"),
    path(ws + "leads/", leads.LeadListApi.as_view(), name="leads"),
    path(ws + "leads/export/", leads.LeadExportApi.as_view(), name="leads_export"),
    path(ws + "leads/counts/", leads.LeadCountApi.as_view(), name="leads_counts"),
    path(ws + "leads/forms/", leads.LeadFormListApi.as_view(), name="lead_forms"),
    path(ws + "leads/forms/<int:form_id>/", leads.LeadFormDetailApi.as_view(), name="lead_form"),
    path(ws + "leads/person/", leads.PersonExportApi.as_view(), name="leads_person"),
    path(ws + "leads/person/erase/", leads.PersonEraseApi.as_view(), name="leads_person_erase"),
    path(ws + "links/", links.ShortLinkListApi.as_view(), name="links"),
    path(ws + "links/clicks/", links.ShortLinkClicksApi.as_view(), name="link_clicks"),
    path(ws + "links/shorten/", links.ShortenTextApi.as_view(), name="links_shorten"),
    path(ws + "links/<int:short_link_id>/", links.ShortLinkDetailApi.as_view(), name="link"),
    path(ws + "reports/", reports.ReportApi.as_view(), name="report"),
    path(ws + "reports/download/<str:fmt>/", reports.ReportDownloadApi.as_view(), name="report-download"),
    path(ws + "reports/branding/", reports.BrandingApi.as_view(), name="report-branding"),
    path(ws + "reports/schedules/", reports.ScheduleListApi.as_view(), name="report-schedules"),
    path(
        ws + "reports/schedules/<int:schedule_id>/",
        reports.ScheduleDetailApi.as_view(),
        name="report-schedule",
    ),
    path(ws + "reports/deliveries/", reports.DeliveryListApi.as_view(), name="report-deliveries"),
    path(ws + "campaigns/<int:campaign_id>/", campaigns.CampaignDetailApi.as_view(), name="campaign"),
    path(ws + "advocacy/offers/", advocacy.OfferListApi.as_view(), name="advocacy_offers"),
    path(ws + "advocacy/offers/<int:offer_id>/", advocacy.OfferDetailApi.as_view(), name="advocacy_offer"),
    path(
        ws + "advocacy/offers/<int:offer_id>/shares/",
        advocacy.OfferShareApi.as_view(),
        name="advocacy_offer_share",
    ),
    path(ws + "advocacy/shares/", advocacy.ShareListApi.as_view(), name="advocacy_shares"),
    path(ws + "advocacy/channels/", advocacy.PersonalChannelListApi.as_view(), name="advocacy_channels"),
]
