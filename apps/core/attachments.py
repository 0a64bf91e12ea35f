"""Attach photos and files to records, checked for type and size."""
from django.contrib.contenttypes.models import ContentType

from .models import Attachment
from .uploads import validate_document_or_image, validate_image


def attach(obj, uploaded_file, *, kind=Attachment.Kind.EVIDENCE, user=None, caption="", images_only=True):
    """Validate ``uploaded_file`` and attach it to ``obj``. Raises ValidationError on a bad file."""
    (validate_image if images_only else validate_document_or_image)(uploaded_file)
    institution_id = getattr(obj, "scope_institution_id", None)
    owner_org_id = getattr(obj, "owner_org_id", None) if institution_id is None else None
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(obj.__class__),
        object_id=str(obj.pk),
        institution_id=institution_id,
        owner_org_id=owner_org_id,
        kind=kind,
        file=uploaded_file,
        original_name=(getattr(uploaded_file, "name", "") or "")[:200],
        caption=caption[:200],
        uploaded_by=user,
    )


def attachments_of(obj, kind=None):
    qs = Attachment.objects.filter(content_type=ContentType.objects.get_for_model(obj.__class__),
                                   object_id=str(obj.pk))
    return qs.filter(kind=kind) if kind else qs
