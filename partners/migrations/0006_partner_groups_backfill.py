from django.db import migrations

GROUP_PREFIX = "Partner: "
BOTH = "companies_and_relationships"


def backfill(apps, schema_editor):
    """Give existing partners their groups, their users the two groups, their records grants."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Partner = apps.get_model("partners", "Partner")
    PartnerUser = apps.get_model("partners", "PartnerUser")
    Company = apps.get_model("companies", "Company")
    Relationship = apps.get_model("relationships", "Relationship")
    CompanyGrant = apps.get_model("partners", "CompanyGroupObjectPermission")
    RelationshipGrant = apps.get_model("partners", "RelationshipGroupObjectPermission")

    groups = {}
    scopes = {}
    for partner in Partner.objects.all():
        group, _ = Group.objects.get_or_create(name=f"{GROUP_PREFIX}{partner.name}")
        partner.group = group
        partner.save(update_fields=["group"])
        groups[partner.pk] = group.pk
        scopes[partner.pk] = partner.data_scope
    for membership in PartnerUser.objects.select_related("user"):
        membership.user.groups.set([groups[membership.partner_id], membership.bundle_id])

    def perms(app_label, model):
        return list(
            Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"view_{model}", f"change_{model}"],
            )
        )

    company_perms = perms("companies", "company")
    CompanyGrant.objects.bulk_create(
        (
            CompanyGrant(content_object_id=pk, group_id=groups[partner_id], permission=permission)
            for pk, partner_id in Company.objects.filter(managed_by__isnull=False)
            .values_list("pk", "managed_by_id")
            .iterator()
            for permission in company_perms
        ),
        batch_size=1000,
    )
    relationship_perms = perms("relationships", "relationship")
    rows = (
        Relationship.objects.filter(managed_by__isnull=False)
        | Relationship.objects.filter(company__managed_by__isnull=False)
    ).values_list("pk", "managed_by_id", "company__managed_by_id")
    grants = []
    for pk, own, company_partner in rows.iterator():
        partner_id = own if own is not None else company_partner
        if scopes[partner_id] == BOTH:
            grants.extend(
                RelationshipGrant(
                    content_object_id=pk, group_id=groups[partner_id], permission=permission
                )
                for permission in relationship_perms
            )
    RelationshipGrant.objects.bulk_create(grants, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("partners", "0005_partner_groups_bundles_object_permissions")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
