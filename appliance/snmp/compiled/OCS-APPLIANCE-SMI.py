# ruff: noqa
# SNMP MIB module (OCS-APPLIANCE-SMI) expressed in pysnmp data model.
#
# This Python module is designed to be imported and executed by the
# pysnmp library.
#
# See https://www.pysnmp.com/pysnmp for further information.
#
# Notes
# -----
# ASN.1 source OCS-APPLIANCE-SMI.txt
# Produced by pysmi-2.0.0

if 'mibBuilder' not in globals():
    import sys

    sys.stderr.write(__doc__)
    sys.exit(1)

# Import base ASN.1 objects even if this MIB does not use it

(Integer,
 OctetString,
 ObjectIdentifier) = mibBuilder.import_symbols(
    "ASN1",
    "Integer",
    "OctetString",
    "ObjectIdentifier")

(NamedValues,) = mibBuilder.import_symbols(
    "ASN1-ENUMERATION",
    "NamedValues")
(ConstraintsIntersection,
 ConstraintsUnion,
 SingleValueConstraint,
 ValueRangeConstraint,
 ValueSizeConstraint) = mibBuilder.import_symbols(
    "ASN1-REFINEMENT",
    "ConstraintsIntersection",
    "ConstraintsUnion",
    "SingleValueConstraint",
    "ValueRangeConstraint",
    "ValueSizeConstraint")

# Import SMI symbols from the MIBs this MIB depends on

(ModuleCompliance,
 NotificationGroup) = mibBuilder.import_symbols(
    "SNMPv2-CONF",
    "ModuleCompliance",
    "NotificationGroup")

(Bits,
 Integer32,
 IpAddress,
 ModuleIdentity,
 MibIdentifier,
 ObjectIdentity,
 MibScalar,
 MibTable,
 MibTableRow,
 MibTableColumn,
 TimeTicks,
 Unsigned32,
 enterprises,
 iso) = mibBuilder.import_symbols(
    "SNMPv2-SMI",
    "Bits",
    "Integer32",
    "IpAddress",
    "ModuleIdentity",
    "MibIdentifier",
    "ObjectIdentity",
    "MibScalar",
    "MibTable",
    "MibTableRow",
    "MibTableColumn",
    "TimeTicks",
    "Unsigned32",
    "enterprises",
    "iso")

(DisplayString,
 PhysAddress,
 TextualConvention) = mibBuilder.import_symbols(
    "SNMPv2-TC",
    "DisplayString",
    "PhysAddress",
    "TextualConvention")


# MODULE-IDENTITY

ocsAppliance = ModuleIdentity(
    (1, 3, 6, 1, 4, 1, 32473)
)
if mibBuilder.loadTexts:
    ocsAppliance.setRevisions(
        ("2026-11-23 00:00",)
    )


# Types definitions


# TEXTUAL-CONVENTIONS



# MIB Managed Objects in the order of their OIDs

_OcsApplianceModules_ObjectIdentity = ObjectIdentity
ocsApplianceModules = _OcsApplianceModules_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1)
)
if mibBuilder.loadTexts:
    ocsApplianceModules.setStatus("current")
_OcsApplianceProducts_ObjectIdentity = ObjectIdentity
ocsApplianceProducts = _OcsApplianceProducts_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 2)
)
if mibBuilder.loadTexts:
    ocsApplianceProducts.setStatus("current")
_OcsApplianceAgent_ObjectIdentity = ObjectIdentity
ocsApplianceAgent = _OcsApplianceAgent_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 2, 1)
)
if mibBuilder.loadTexts:
    ocsApplianceAgent.setStatus("current")
_OcsApplianceDrafts_ObjectIdentity = ObjectIdentity
ocsApplianceDrafts = _OcsApplianceDrafts_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3)
)
if mibBuilder.loadTexts:
    ocsApplianceDrafts.setStatus("current")

# Managed Objects groups


# Notification objects


# Notifications groups


# Agent capabilities


# Module compliance


# Export all MIB objects to the MIB builder

mibBuilder.export_symbols(
    "OCS-APPLIANCE-SMI",
    **{"ocsAppliance": ocsAppliance,
       "ocsApplianceModules": ocsApplianceModules,
       "ocsApplianceProducts": ocsApplianceProducts,
       "ocsApplianceAgent": ocsApplianceAgent,
       "ocsApplianceDrafts": ocsApplianceDrafts}
)
