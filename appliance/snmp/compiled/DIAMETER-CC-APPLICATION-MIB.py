# ruff: noqa
# SNMP MIB module (DIAMETER-CC-APPLICATION-MIB) expressed in pysnmp data model.
#
# This Python module is designed to be imported and executed by the
# pysnmp library.
#
# See https://www.pysnmp.com/pysnmp for further information.
#
# Notes
# -----
# ASN.1 source DIAMETER-CC-APPLICATION-MIB.txt
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

(ocsApplianceDrafts,) = mibBuilder.import_symbols(
    "OCS-APPLIANCE-SMI",
    "ocsApplianceDrafts")

(SnmpAdminString,) = mibBuilder.import_symbols(
    "SNMP-FRAMEWORK-MIB",
    "SnmpAdminString")

(ModuleCompliance,
 NotificationGroup,
 ObjectGroup) = mibBuilder.import_symbols(
    "SNMPv2-CONF",
    "ModuleCompliance",
    "NotificationGroup",
    "ObjectGroup")

(Bits,
 Counter32,
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
 iso) = mibBuilder.import_symbols(
    "SNMPv2-SMI",
    "Bits",
    "Counter32",
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
    "iso")

(DisplayString,
 PhysAddress,
 TextualConvention) = mibBuilder.import_symbols(
    "SNMPv2-TC",
    "DisplayString",
    "PhysAddress",
    "TextualConvention")


# MODULE-IDENTITY

diameterCCAMIB = ModuleIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2)
)
if mibBuilder.loadTexts:
    diameterCCAMIB.setRevisions(
        ("2026-11-23 12:00",
         "2026-11-23 00:00")
    )


# Types definitions


# TEXTUAL-CONVENTIONS



# MIB Managed Objects in the order of their OIDs

_DccaMIBObjects_ObjectIdentity = ObjectIdentity
dccaMIBObjects = _DccaMIBObjects_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1)
)
_DccaHostCfgs_ObjectIdentity = ObjectIdentity
dccaHostCfgs = _DccaHostCfgs_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 1)
)
_DccaHostID_Type = SnmpAdminString
_DccaHostID_Object = MibScalar
dccaHostID = _DccaHostID_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 1, 1),
    _DccaHostID_Type()
)
dccaHostID.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaHostID.setStatus("current")
_DccaPeerStats_ObjectIdentity = ObjectIdentity
dccaPeerStats = _DccaPeerStats_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2)
)
_DccaPerPeerStatsTable_Object = MibTable
dccaPerPeerStatsTable = _DccaPerPeerStatsTable_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1)
)
if mibBuilder.loadTexts:
    dccaPerPeerStatsTable.setStatus("current")
_DccaPerPeerStatsEntry_Object = MibTableRow
dccaPerPeerStatsEntry = _DccaPerPeerStatsEntry_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1)
)
dccaPerPeerStatsEntry.setIndexNames(
    (0, "DIAMETER-CC-APPLICATION-MIB", "dccaPeerIndex"),
)
if mibBuilder.loadTexts:
    dccaPerPeerStatsEntry.setStatus("current")


class _DccaPeerIndex_Type(Unsigned32):
    """Custom type dccaPeerIndex based on Unsigned32"""
    subtypeSpec = Unsigned32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        ValueRangeConstraint(1, 4294967295),
    )


_DccaPeerIndex_Type.__name__ = "Unsigned32"
_DccaPeerIndex_Object = MibTableColumn
dccaPeerIndex = _DccaPeerIndex_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 1),
    _DccaPeerIndex_Type()
)
dccaPeerIndex.setMaxAccess("not-accessible")
if mibBuilder.loadTexts:
    dccaPeerIndex.setStatus("current")
_DccaPeerId_Type = SnmpAdminString
_DccaPeerId_Object = MibTableColumn
dccaPeerId = _DccaPeerId_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 2),
    _DccaPeerId_Type()
)
dccaPeerId.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPeerId.setStatus("current")
_DccaPerPeerStatsCCRIn_Type = Counter32
_DccaPerPeerStatsCCRIn_Object = MibTableColumn
dccaPerPeerStatsCCRIn = _DccaPerPeerStatsCCRIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 3),
    _DccaPerPeerStatsCCRIn_Type()
)
dccaPerPeerStatsCCRIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCRIn.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCRIn.setUnits("messages")
_DccaPerPeerStatsCCROut_Type = Counter32
_DccaPerPeerStatsCCROut_Object = MibTableColumn
dccaPerPeerStatsCCROut = _DccaPerPeerStatsCCROut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 4),
    _DccaPerPeerStatsCCROut_Type()
)
dccaPerPeerStatsCCROut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCROut.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCROut.setUnits("messages")
_DccaPerPeerStatsCCRDropped_Type = Counter32
_DccaPerPeerStatsCCRDropped_Object = MibTableColumn
dccaPerPeerStatsCCRDropped = _DccaPerPeerStatsCCRDropped_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 5),
    _DccaPerPeerStatsCCRDropped_Type()
)
dccaPerPeerStatsCCRDropped.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCRDropped.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCRDropped.setUnits("messages")
_DccaPerPeerStatsCCAIn_Type = Counter32
_DccaPerPeerStatsCCAIn_Object = MibTableColumn
dccaPerPeerStatsCCAIn = _DccaPerPeerStatsCCAIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 6),
    _DccaPerPeerStatsCCAIn_Type()
)
dccaPerPeerStatsCCAIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCAIn.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCAIn.setUnits("messages")
_DccaPerPeerStatsCCAOut_Type = Counter32
_DccaPerPeerStatsCCAOut_Object = MibTableColumn
dccaPerPeerStatsCCAOut = _DccaPerPeerStatsCCAOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 7),
    _DccaPerPeerStatsCCAOut_Type()
)
dccaPerPeerStatsCCAOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCAOut.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCAOut.setUnits("messages")
_DccaPerPeerStatsCCADropped_Type = Counter32
_DccaPerPeerStatsCCADropped_Object = MibTableColumn
dccaPerPeerStatsCCADropped = _DccaPerPeerStatsCCADropped_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 8),
    _DccaPerPeerStatsCCADropped_Type()
)
dccaPerPeerStatsCCADropped.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCADropped.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsCCADropped.setUnits("messages")
_DccaPerPeerStatsRARIn_Type = Counter32
_DccaPerPeerStatsRARIn_Object = MibTableColumn
dccaPerPeerStatsRARIn = _DccaPerPeerStatsRARIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 9),
    _DccaPerPeerStatsRARIn_Type()
)
dccaPerPeerStatsRARIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRARIn.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRARIn.setUnits("messages")
_DccaPerPeerStatsRAROut_Type = Counter32
_DccaPerPeerStatsRAROut_Object = MibTableColumn
dccaPerPeerStatsRAROut = _DccaPerPeerStatsRAROut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 10),
    _DccaPerPeerStatsRAROut_Type()
)
dccaPerPeerStatsRAROut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAROut.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAROut.setUnits("messages")
_DccaPerPeerStatsRARDropped_Type = Counter32
_DccaPerPeerStatsRARDropped_Object = MibTableColumn
dccaPerPeerStatsRARDropped = _DccaPerPeerStatsRARDropped_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 11),
    _DccaPerPeerStatsRARDropped_Type()
)
dccaPerPeerStatsRARDropped.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRARDropped.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRARDropped.setUnits("messages")
_DccaPerPeerStatsRAAIn_Type = Counter32
_DccaPerPeerStatsRAAIn_Object = MibTableColumn
dccaPerPeerStatsRAAIn = _DccaPerPeerStatsRAAIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 12),
    _DccaPerPeerStatsRAAIn_Type()
)
dccaPerPeerStatsRAAIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAAIn.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAAIn.setUnits("messages")
_DccaPerPeerStatsRAAOut_Type = Counter32
_DccaPerPeerStatsRAAOut_Object = MibTableColumn
dccaPerPeerStatsRAAOut = _DccaPerPeerStatsRAAOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 13),
    _DccaPerPeerStatsRAAOut_Type()
)
dccaPerPeerStatsRAAOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAAOut.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAAOut.setUnits("messages")
_DccaPerPeerStatsRAADropped_Type = Counter32
_DccaPerPeerStatsRAADropped_Object = MibTableColumn
dccaPerPeerStatsRAADropped = _DccaPerPeerStatsRAADropped_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 1, 2, 1, 1, 14),
    _DccaPerPeerStatsRAADropped_Type()
)
dccaPerPeerStatsRAADropped.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAADropped.setStatus("current")
if mibBuilder.loadTexts:
    dccaPerPeerStatsRAADropped.setUnits("messages")
_DccaMIBConform_ObjectIdentity = ObjectIdentity
dccaMIBConform = _DccaMIBConform_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 2)
)
_DccaCompliances_ObjectIdentity = ObjectIdentity
dccaCompliances = _DccaCompliances_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 2, 1)
)
_DccaGroups_ObjectIdentity = ObjectIdentity
dccaGroups = _DccaGroups_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 2, 2)
)

# Managed Objects groups

dccaHostCfgGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 2, 2, 1)
)
dccaHostCfgGroup.setObjects(
    ("DIAMETER-CC-APPLICATION-MIB", "dccaHostID")
)
if mibBuilder.loadTexts:
    dccaHostCfgGroup.setStatus("current")

dccaPeerStatsGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 2, 2, 2)
)
dccaPeerStatsGroup.setObjects(
      *(("DIAMETER-CC-APPLICATION-MIB", "dccaPeerId"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsCCRIn"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsCCROut"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsCCRDropped"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsCCAIn"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsCCAOut"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsCCADropped"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsRARIn"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsRAROut"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsRARDropped"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsRAAIn"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsRAAOut"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPerPeerStatsRAADropped"))
)
if mibBuilder.loadTexts:
    dccaPeerStatsGroup.setStatus("current")


# Notification objects


# Notifications groups


# Agent capabilities


# Module compliance

dccaCompliance = ModuleCompliance(
    (1, 3, 6, 1, 4, 1, 32473, 3, 2, 2, 1, 1)
)
dccaCompliance.setObjects(
      *(("DIAMETER-CC-APPLICATION-MIB", "dccaHostCfgGroup"),
        ("DIAMETER-CC-APPLICATION-MIB", "dccaPeerStatsGroup"))
)
if mibBuilder.loadTexts:
    dccaCompliance.setStatus(
        "current"
    )


# Export all MIB objects to the MIB builder

mibBuilder.export_symbols(
    "DIAMETER-CC-APPLICATION-MIB",
    **{"diameterCCAMIB": diameterCCAMIB,
       "dccaMIBObjects": dccaMIBObjects,
       "dccaHostCfgs": dccaHostCfgs,
       "dccaHostID": dccaHostID,
       "dccaPeerStats": dccaPeerStats,
       "dccaPerPeerStatsTable": dccaPerPeerStatsTable,
       "dccaPerPeerStatsEntry": dccaPerPeerStatsEntry,
       "dccaPeerIndex": dccaPeerIndex,
       "dccaPeerId": dccaPeerId,
       "dccaPerPeerStatsCCRIn": dccaPerPeerStatsCCRIn,
       "dccaPerPeerStatsCCROut": dccaPerPeerStatsCCROut,
       "dccaPerPeerStatsCCRDropped": dccaPerPeerStatsCCRDropped,
       "dccaPerPeerStatsCCAIn": dccaPerPeerStatsCCAIn,
       "dccaPerPeerStatsCCAOut": dccaPerPeerStatsCCAOut,
       "dccaPerPeerStatsCCADropped": dccaPerPeerStatsCCADropped,
       "dccaPerPeerStatsRARIn": dccaPerPeerStatsRARIn,
       "dccaPerPeerStatsRAROut": dccaPerPeerStatsRAROut,
       "dccaPerPeerStatsRARDropped": dccaPerPeerStatsRARDropped,
       "dccaPerPeerStatsRAAIn": dccaPerPeerStatsRAAIn,
       "dccaPerPeerStatsRAAOut": dccaPerPeerStatsRAAOut,
       "dccaPerPeerStatsRAADropped": dccaPerPeerStatsRAADropped,
       "dccaMIBConform": dccaMIBConform,
       "dccaCompliances": dccaCompliances,
       "dccaCompliance": dccaCompliance,
       "dccaGroups": dccaGroups,
       "dccaHostCfgGroup": dccaHostCfgGroup,
       "dccaPeerStatsGroup": dccaPeerStatsGroup}
)
