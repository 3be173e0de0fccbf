from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from resonanz.accounts import api as accounts
from resonanz.analytics import api as analytics
from resonanz.approvals import api as approvals
from resonanz.campaigns import api as campaigns
from resonanz.channels import api as channels
from resonanz.engagement import api as engagement
from resonanz.links import api as links
from resonanz.posts import api as posts

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
    path(ws + "analytics/", analytics.AnalyticsApi.as_view(), name="analytics"),
    path(ws + "campaigns/", campaigns.CampaignListApi.as_view(), name="campaigns"),
    path(ws + "links/", links.ShortLinkListApi.as_view(), name="links"),
    path(ws + "links/clicks/", links.ShortLinkClicksApi.as_view(), name="link_clicks"),
    path(ws + "links/shorten/", links.ShortenTextApi.as_view(), name="links_shorten"),
    path(ws + "links/<int:short_link_id>/", links.ShortLinkDetailApi.as_view(), name="link"),
    path(ws + "campaigns/<int:campaign_id>/", campaigns.CampaignDetailApi.as_view(), name="campaign"),
]
