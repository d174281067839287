"""Webhook mutations: register, rotate the secret, pause, resume, replay, remove (admins)."""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.webhook import Webhook as WebhookAggregate
from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem
from okrledger.graphql.mutations.common import (
    ChangeInput,
    MutationPayload,
    answer,
    attempt,
    command_context,
    handler,
    refuse_version_of_new,
)
from okrledger.graphql.permissions import CanManageWebhooks
from okrledger.graphql.types.webhook import Webhook
from okrledger.services import webhooks
from okrledger.services.handling import Outcome

SECRET = strawberry.field(
    default=None,
    description="The signing secret: shown this once (null when the same commandId is "
    "retried). Keep it to verify the Okrledger-Signature header.",
)


@strawberry.input
class RegisterWebhookInput(ChangeInput):
    url: str = strawberry.field(description="An http(s) URL on a public address.")
    event_types: list[str] = strawberry.field(
        description='Public event types ("okr.objective.set.v1"), families '
        '("okr.objective.*") or "*".'
    )
    description: str = ""
    webhook_id: UUID | None = strawberry.field(
        default=None, description="Chosen by the server if unset."
    )


@strawberry.input
class WebhookChangeInput(ChangeInput):
    webhook_id: UUID


@strawberry.input
class RotateWebhookSecretInput(WebhookChangeInput):
    pass


@strawberry.input(description="`reason` is also shown as the webhook's pauseReason.")
class PauseWebhookInput(WebhookChangeInput):
    pass


@strawberry.input
class ResumeWebhookInput(WebhookChangeInput):
    pass


@strawberry.input
class ReplayWebhookInput(WebhookChangeInput):
    from_position: int = strawberry.field(
        description="Deliver again every matching event after this tenant log position."
    )


@strawberry.input
class RemoveWebhookInput(WebhookChangeInput):
    pass


@strawberry.interface(description="A webhook command succeeded.")
class WebhookPayload(MutationPayload):
    # Never refused in practice (only webhook managers run these mutations); declared so
    # that every payload field reads under the rule of the query that reads the same.
    webhook: Webhook = strawberry.field(permission_classes=[CanManageWebhooks])

    @classmethod
    async def read(cls, info: Info[Context, None], outcome: Outcome[WebhookAggregate]) -> Self:
        """With the webhook as its read model has it after the change (kept in the same
        transaction as the command's event, so it is never behind)."""
        tenant_id = info.context.caller().tenant_id
        view = await info.context.webhook_reads.webhook(tenant_id, outcome.aggregate.id)
        assert view is not None, "the webhooks read model is kept inline"
        return cls(webhook=Webhook.of(view), version=outcome.version, position=outcome.position)


@strawberry.interface(description="A webhook command that issued a signing secret.")
class WebhookSecretPayload(WebhookPayload):
    secret: str | None = SECRET


@strawberry.type
class RegisterWebhookPayload(WebhookSecretPayload):
    pass


@strawberry.type
class RotateWebhookSecretPayload(WebhookSecretPayload):
    pass


@strawberry.type
class PauseWebhookPayload(WebhookPayload):
    pass


@strawberry.type
class ResumeWebhookPayload(WebhookPayload):
    pass


@strawberry.type
class ReplayWebhookPayload(WebhookPayload):
    pass


@strawberry.type
class RemoveWebhookPayload(WebhookPayload):
    pass


RegisterWebhookResult = Annotated[
    RegisterWebhookPayload | Problem, strawberry.union("RegisterWebhookResult")
]
RotateWebhookSecretResult = Annotated[
    RotateWebhookSecretPayload | Problem, strawberry.union("RotateWebhookSecretResult")
]
PauseWebhookResult = Annotated[
    PauseWebhookPayload | Problem, strawberry.union("PauseWebhookResult")
]
ResumeWebhookResult = Annotated[
    ResumeWebhookPayload | Problem, strawberry.union("ResumeWebhookResult")
]
ReplayWebhookResult = Annotated[
    ReplayWebhookPayload | Problem, strawberry.union("ReplayWebhookResult")
]
RemoveWebhookResult = Annotated[
    RemoveWebhookPayload | Problem, strawberry.union("RemoveWebhookResult")
]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Register a URL the tenant's matching events are POSTed to, signed; "
        "events after now are delivered. Answers with the signing secret, once.",
        permission_classes=[CanManageWebhooks],
    )
    async def register_webhook(
        self, info: Info[Context, None], input: RegisterWebhookInput
    ) -> RegisterWebhookResult:
        refused = refuse_version_of_new(input, "webhook")
        if refused is not None:
            return refused
        cmd = webhooks.RegisterWebhook(
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            webhook_id=input.webhook_id,
        )
        issued = await attempt(
            webhooks.register_webhook(
                cmd, command_context(info, input), handler(info), info.context.webhooks
            )
        )
        if not isinstance(issued, webhooks.SecretIssued):
            return issued
        payload = await RegisterWebhookPayload.read(info, issued.outcome)
        payload.secret = issued.secret
        return payload

    @strawberry.mutation(
        description="Issue a new signing secret, shown once; deliveries carry a signature "
        "with the previous one too for a grace period.",
        permission_classes=[CanManageWebhooks],
    )
    async def rotate_webhook_secret(
        self, info: Info[Context, None], input: RotateWebhookSecretInput
    ) -> RotateWebhookSecretResult:
        cmd = webhooks.RotateWebhookSecret(
            webhook_id=input.webhook_id, expected_version=input.expected_version
        )
        issued = await attempt(
            webhooks.rotate_webhook_secret(
                cmd, command_context(info, input), handler(info), info.context.webhooks
            ),
            target="webhookId",
        )
        if not isinstance(issued, webhooks.SecretIssued):
            return issued
        payload = await RotateWebhookSecretPayload.read(info, issued.outcome)
        payload.secret = issued.secret
        return payload

    @strawberry.mutation(
        description="Stop delivering; matching events keep being queued until it resumes.",
        permission_classes=[CanManageWebhooks],
    )
    async def pause_webhook(
        self, info: Info[Context, None], input: PauseWebhookInput
    ) -> PauseWebhookResult:
        cmd = webhooks.PauseWebhook(
            webhook_id=input.webhook_id,
            reason=input.reason or "",
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            webhooks.pause_webhook(cmd, command_context(info, input), handler(info)),
            PauseWebhookPayload,
            target="webhookId",
        )

    @strawberry.mutation(
        description="Deliver to a paused webhook again, starting with the oldest queued event.",
        permission_classes=[CanManageWebhooks],
    )
    async def resume_webhook(
        self, info: Info[Context, None], input: ResumeWebhookInput
    ) -> ResumeWebhookResult:
        cmd = webhooks.ResumeWebhook(
            webhook_id=input.webhook_id, expected_version=input.expected_version
        )
        return await answer(
            info,
            webhooks.resume_webhook(cmd, command_context(info, input), handler(info)),
            ResumeWebhookPayload,
            target="webhookId",
        )

    @strawberry.mutation(
        description="Resume a paused webhook and deliver again every matching event after "
        "fromPosition.",
        permission_classes=[CanManageWebhooks],
    )
    async def replay_webhook(
        self, info: Info[Context, None], input: ReplayWebhookInput
    ) -> ReplayWebhookResult:
        cmd = webhooks.ReplayWebhook(
            webhook_id=input.webhook_id,
            from_position=input.from_position,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            webhooks.replay_webhook(cmd, command_context(info, input), handler(info)),
            ReplayWebhookPayload,
            target="webhookId",
        )

    @strawberry.mutation(
        description="Stop for good: queued deliveries and the secret are dropped; the "
        "webhook and its delivery log stay readable.",
        permission_classes=[CanManageWebhooks],
    )
    async def remove_webhook(
        self, info: Info[Context, None], input: RemoveWebhookInput
    ) -> RemoveWebhookResult:
        cmd = webhooks.RemoveWebhook(
            webhook_id=input.webhook_id, expected_version=input.expected_version
        )
        return await answer(
            info,
            webhooks.remove_webhook(cmd, command_context(info, input), handler(info)),
            RemoveWebhookPayload,
            target="webhookId",
        )
