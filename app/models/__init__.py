"""Every model module, imported so that Alembic and relationships see them all."""

from app.models.audit_event import AuditEvent, AuditHead
from app.models.base import Base
from app.models.collaboration import Comment, Notification
from app.models.commitment import Commitment, CommitmentKind, CommitmentStatus
from app.models.credit_record import CreditRecord, RecordStatus, RecordType, Severity
from app.models.department import Department
from app.models.document import Document, DocumentCounter, DocumentStatus
from app.models.integration import DeliveryState, WebhookDelivery, WebhookEndpoint
from app.models.mail import MailDelivery, MailState
from app.models.matter import MaterialKind, Matter, MatterMaterial
from app.models.process import (
    Attachment,
    HumanTask,
    Incident,
    InstanceStatus,
    MessageSubscription,
    OutboxEvent,
    ProcessedMessage,
    ProcessInstance,
    ProcessVersion,
)
from app.models.rules import CalendarOverride, PublicationRule
from app.models.studio import DraftTestRun, ProcessDraft
from app.models.subject import Subject
from app.models.user import ApiToken, ApproverRole, Role, User

__all__ = [
    "ApiToken",
    "Attachment",
    "HumanTask",
    "Incident",
    "InstanceStatus",
    "MessageSubscription",
    "OutboxEvent",
    "ProcessInstance",
    "ProcessVersion",
    "ProcessDraft",
    "DraftTestRun",
    "ProcessedMessage",
    "ApproverRole",
    "AuditEvent",
    "AuditHead",
    "Base",
    "CalendarOverride",
    "Comment",
    "Notification",
    "Commitment",
    "CommitmentKind",
    "CommitmentStatus",
    "CreditRecord",
    "Department",
    "Document",
    "DocumentCounter",
    "DocumentStatus",
    "MaterialKind",
    "Matter",
    "MatterMaterial",
    "PublicationRule",
    "RecordStatus",
    "RecordType",
    "Role",
    "Severity",
    "Subject",
    "User",
    "DeliveryState",
    "WebhookDelivery",
    "WebhookEndpoint",
    "MailDelivery",
    "MailState",
]
