# ruff: noqa
# SNMP MIB module (OCS-APPLIANCE-MIB) expressed in pysnmp data model.
#
# This Python module is designed to be imported and executed by the
# pysnmp library.
#
# See https://www.pysnmp.com/pysnmp for further information.
#
# Notes
# -----
# ASN.1 source OCS-APPLIANCE-MIB.txt
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

(InetAddress,
 InetAddressType) = mibBuilder.import_symbols(
    "INET-ADDRESS-MIB",
    "InetAddress",
    "InetAddressType")

(ocsApplianceModules,) = mibBuilder.import_symbols(
    "OCS-APPLIANCE-SMI",
    "ocsApplianceModules")

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
 Counter64,
 Gauge32,
 Integer32,
 IpAddress,
 ModuleIdentity,
 MibIdentifier,
 NotificationType,
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
    "Counter64",
    "Gauge32",
    "Integer32",
    "IpAddress",
    "ModuleIdentity",
    "MibIdentifier",
    "NotificationType",
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

ocsApplianceMIB = ModuleIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1)
)
if mibBuilder.loadTexts:
    ocsApplianceMIB.setRevisions(
        ("2026-12-07 00:00",
         "2026-11-23 00:00")
    )


# Types definitions


# TEXTUAL-CONVENTIONS



# MIB Managed Objects in the order of their OIDs

_OcsNotifications_ObjectIdentity = ObjectIdentity
ocsNotifications = _OcsNotifications_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0)
)
_OcsObjects_ObjectIdentity = ObjectIdentity
ocsObjects = _OcsObjects_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1)
)
_OcsInventory_ObjectIdentity = ObjectIdentity
ocsInventory = _OcsInventory_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 1)
)
_OcsOfferCount_Type = Gauge32
_OcsOfferCount_Object = MibScalar
ocsOfferCount = _OcsOfferCount_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 1, 1),
    _OcsOfferCount_Type()
)
ocsOfferCount.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsOfferCount.setStatus("current")
if mibBuilder.loadTexts:
    ocsOfferCount.setUnits("offers")
_OcsProductCount_Type = Gauge32
_OcsProductCount_Object = MibScalar
ocsProductCount = _OcsProductCount_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 1, 2),
    _OcsProductCount_Type()
)
ocsProductCount.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsProductCount.setStatus("current")
if mibBuilder.loadTexts:
    ocsProductCount.setUnits("products")
_OcsSubscriberCount_Type = Gauge32
_OcsSubscriberCount_Object = MibScalar
ocsSubscriberCount = _OcsSubscriberCount_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 1, 3),
    _OcsSubscriberCount_Type()
)
ocsSubscriberCount.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsSubscriberCount.setStatus("current")
if mibBuilder.loadTexts:
    ocsSubscriberCount.setUnits("services")
_OcsBucketCount_Type = Gauge32
_OcsBucketCount_Object = MibScalar
ocsBucketCount = _OcsBucketCount_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 1, 4),
    _OcsBucketCount_Type()
)
ocsBucketCount.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsBucketCount.setStatus("current")
if mibBuilder.loadTexts:
    ocsBucketCount.setUnits("buckets")
_OcsReservationCount_Type = Gauge32
_OcsReservationCount_Object = MibScalar
ocsReservationCount = _OcsReservationCount_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 1, 5),
    _OcsReservationCount_Type()
)
ocsReservationCount.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsReservationCount.setStatus("current")
if mibBuilder.loadTexts:
    ocsReservationCount.setUnits("reservations")
_OcsClientCount_Type = Gauge32
_OcsClientCount_Object = MibScalar
ocsClientCount = _OcsClientCount_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 1, 6),
    _OcsClientCount_Type()
)
ocsClientCount.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsClientCount.setStatus("current")
if mibBuilder.loadTexts:
    ocsClientCount.setUnits("clients")
_OcsApplications_ObjectIdentity = ObjectIdentity
ocsApplications = _OcsApplications_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2)
)
_OcsAppTable_Object = MibTable
ocsAppTable = _OcsAppTable_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1)
)
if mibBuilder.loadTexts:
    ocsAppTable.setStatus("current")
_OcsAppEntry_Object = MibTableRow
ocsAppEntry = _OcsAppEntry_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1)
)
ocsAppEntry.setIndexNames(
    (0, "OCS-APPLIANCE-MIB", "ocsAppId"),
)
if mibBuilder.loadTexts:
    ocsAppEntry.setStatus("current")


class _OcsAppId_Type(Unsigned32):
    """Custom type ocsAppId based on Unsigned32"""
    subtypeSpec = Unsigned32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        ValueRangeConstraint(1, 4294967295),
    )


_OcsAppId_Type.__name__ = "Unsigned32"
_OcsAppId_Object = MibTableColumn
ocsAppId = _OcsAppId_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 1),
    _OcsAppId_Type()
)
ocsAppId.setMaxAccess("not-accessible")
if mibBuilder.loadTexts:
    ocsAppId.setStatus("current")
_OcsAppName_Type = SnmpAdminString
_OcsAppName_Object = MibTableColumn
ocsAppName = _OcsAppName_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 2),
    _OcsAppName_Type()
)
ocsAppName.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsAppName.setStatus("current")
_OcsAppRequests_Type = Counter64
_OcsAppRequests_Object = MibTableColumn
ocsAppRequests = _OcsAppRequests_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 3),
    _OcsAppRequests_Type()
)
ocsAppRequests.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsAppRequests.setStatus("current")
if mibBuilder.loadTexts:
    ocsAppRequests.setUnits("messages")
_OcsAppAnswersSuccess_Type = Counter64
_OcsAppAnswersSuccess_Object = MibTableColumn
ocsAppAnswersSuccess = _OcsAppAnswersSuccess_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 4),
    _OcsAppAnswersSuccess_Type()
)
ocsAppAnswersSuccess.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsAppAnswersSuccess.setStatus("current")
if mibBuilder.loadTexts:
    ocsAppAnswersSuccess.setUnits("messages")
_OcsAppAnswersProtocolError_Type = Counter64
_OcsAppAnswersProtocolError_Object = MibTableColumn
ocsAppAnswersProtocolError = _OcsAppAnswersProtocolError_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 5),
    _OcsAppAnswersProtocolError_Type()
)
ocsAppAnswersProtocolError.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsAppAnswersProtocolError.setStatus("current")
if mibBuilder.loadTexts:
    ocsAppAnswersProtocolError.setUnits("messages")
_OcsAppAnswersTransient_Type = Counter64
_OcsAppAnswersTransient_Object = MibTableColumn
ocsAppAnswersTransient = _OcsAppAnswersTransient_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 6),
    _OcsAppAnswersTransient_Type()
)
ocsAppAnswersTransient.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsAppAnswersTransient.setStatus("current")
if mibBuilder.loadTexts:
    ocsAppAnswersTransient.setUnits("messages")
_OcsAppAnswersPermanent_Type = Counter64
_OcsAppAnswersPermanent_Object = MibTableColumn
ocsAppAnswersPermanent = _OcsAppAnswersPermanent_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 7),
    _OcsAppAnswersPermanent_Type()
)
ocsAppAnswersPermanent.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsAppAnswersPermanent.setStatus("current")
if mibBuilder.loadTexts:
    ocsAppAnswersPermanent.setUnits("messages")
_OcsAppRequestsDropped_Type = Counter64
_OcsAppRequestsDropped_Object = MibTableColumn
ocsAppRequestsDropped = _OcsAppRequestsDropped_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 2, 1, 1, 8),
    _OcsAppRequestsDropped_Type()
)
ocsAppRequestsDropped.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsAppRequestsDropped.setStatus("current")
if mibBuilder.loadTexts:
    ocsAppRequestsDropped.setUnits("messages")
_OcsLogs_ObjectIdentity = ObjectIdentity
ocsLogs = _OcsLogs_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3)
)
_OcsLogTable_Object = MibTable
ocsLogTable = _OcsLogTable_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1)
)
if mibBuilder.loadTexts:
    ocsLogTable.setStatus("current")
_OcsLogEntry_Object = MibTableRow
ocsLogEntry = _OcsLogEntry_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1, 1)
)
ocsLogEntry.setIndexNames(
    (0, "OCS-APPLIANCE-MIB", "ocsLogIndex"),
)
if mibBuilder.loadTexts:
    ocsLogEntry.setStatus("current")


class _OcsLogIndex_Type(Unsigned32):
    """Custom type ocsLogIndex based on Unsigned32"""
    subtypeSpec = Unsigned32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        ValueRangeConstraint(1, 4294967295),
    )


_OcsLogIndex_Type.__name__ = "Unsigned32"
_OcsLogIndex_Object = MibTableColumn
ocsLogIndex = _OcsLogIndex_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1, 1, 1),
    _OcsLogIndex_Type()
)
ocsLogIndex.setMaxAccess("not-accessible")
if mibBuilder.loadTexts:
    ocsLogIndex.setStatus("current")
_OcsLogName_Type = SnmpAdminString
_OcsLogName_Object = MibTableColumn
ocsLogName = _OcsLogName_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1, 1, 2),
    _OcsLogName_Type()
)
ocsLogName.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsLogName.setStatus("current")
_OcsLogDirectory_Type = SnmpAdminString
_OcsLogDirectory_Object = MibTableColumn
ocsLogDirectory = _OcsLogDirectory_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1, 1, 3),
    _OcsLogDirectory_Type()
)
ocsLogDirectory.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsLogDirectory.setStatus("current")
_OcsLogFiles_Type = Gauge32
_OcsLogFiles_Object = MibTableColumn
ocsLogFiles = _OcsLogFiles_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1, 1, 4),
    _OcsLogFiles_Type()
)
ocsLogFiles.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsLogFiles.setStatus("current")
if mibBuilder.loadTexts:
    ocsLogFiles.setUnits("files")
_OcsLogKBytes_Type = Gauge32
_OcsLogKBytes_Object = MibTableColumn
ocsLogKBytes = _OcsLogKBytes_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1, 1, 5),
    _OcsLogKBytes_Type()
)
ocsLogKBytes.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsLogKBytes.setStatus("current")
if mibBuilder.loadTexts:
    ocsLogKBytes.setUnits("KiB")


class _OcsLogDiskUsedPercent_Type(Gauge32):
    """Custom type ocsLogDiskUsedPercent based on Gauge32"""
    subtypeSpec = Gauge32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        ValueRangeConstraint(0, 100),
    )


_OcsLogDiskUsedPercent_Type.__name__ = "Gauge32"
_OcsLogDiskUsedPercent_Object = MibTableColumn
ocsLogDiskUsedPercent = _OcsLogDiskUsedPercent_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 3, 1, 1, 6),
    _OcsLogDiskUsedPercent_Type()
)
ocsLogDiskUsedPercent.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsLogDiskUsedPercent.setStatus("current")
if mibBuilder.loadTexts:
    ocsLogDiskUsedPercent.setUnits("percent")
_OcsProcesses_ObjectIdentity = ObjectIdentity
ocsProcesses = _OcsProcesses_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 4)
)
_OcsProcessTable_Object = MibTable
ocsProcessTable = _OcsProcessTable_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 4, 1)
)
if mibBuilder.loadTexts:
    ocsProcessTable.setStatus("current")
_OcsProcessEntry_Object = MibTableRow
ocsProcessEntry = _OcsProcessEntry_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 4, 1, 1)
)
ocsProcessEntry.setIndexNames(
    (0, "OCS-APPLIANCE-MIB", "ocsProcessPid"),
)
if mibBuilder.loadTexts:
    ocsProcessEntry.setStatus("current")


class _OcsProcessPid_Type(Unsigned32):
    """Custom type ocsProcessPid based on Unsigned32"""
    subtypeSpec = Unsigned32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        ValueRangeConstraint(1, 4294967295),
    )


_OcsProcessPid_Type.__name__ = "Unsigned32"
_OcsProcessPid_Object = MibTableColumn
ocsProcessPid = _OcsProcessPid_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 4, 1, 1, 1),
    _OcsProcessPid_Type()
)
ocsProcessPid.setMaxAccess("not-accessible")
if mibBuilder.loadTexts:
    ocsProcessPid.setStatus("current")
_OcsProcessRole_Type = SnmpAdminString
_OcsProcessRole_Object = MibTableColumn
ocsProcessRole = _OcsProcessRole_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 4, 1, 1, 2),
    _OcsProcessRole_Type()
)
ocsProcessRole.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsProcessRole.setStatus("current")


class _OcsProcessStatus_Type(Integer32):
    """Custom type ocsProcessStatus based on Integer32"""
    subtypeSpec = Integer32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        SingleValueConstraint(
            *(1,
              2)
        )
    )
    namedValues = NamedValues(
        *(("running", 1),
          ("exited", 2))
    )


_OcsProcessStatus_Type.__name__ = "Integer32"
_OcsProcessStatus_Object = MibTableColumn
ocsProcessStatus = _OcsProcessStatus_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 4, 1, 1, 3),
    _OcsProcessStatus_Type()
)
ocsProcessStatus.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    ocsProcessStatus.setStatus("current")
_OcsNotifyObjects_ObjectIdentity = ObjectIdentity
ocsNotifyObjects = _OcsNotifyObjects_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 5)
)


class _OcsNotifyProtocol_Type(Integer32):
    """Custom type ocsNotifyProtocol based on Integer32"""
    subtypeSpec = Integer32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        SingleValueConstraint(
            *(1,
              2)
        )
    )
    namedValues = NamedValues(
        *(("radius", 1),
          ("diameter", 2))
    )


_OcsNotifyProtocol_Type.__name__ = "Integer32"
_OcsNotifyProtocol_Object = MibScalar
ocsNotifyProtocol = _OcsNotifyProtocol_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 5, 1),
    _OcsNotifyProtocol_Type()
)
ocsNotifyProtocol.setMaxAccess("accessible-for-notify")
if mibBuilder.loadTexts:
    ocsNotifyProtocol.setStatus("current")
_OcsNotifyPeerIdentity_Type = SnmpAdminString
_OcsNotifyPeerIdentity_Object = MibScalar
ocsNotifyPeerIdentity = _OcsNotifyPeerIdentity_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 5, 2),
    _OcsNotifyPeerIdentity_Type()
)
ocsNotifyPeerIdentity.setMaxAccess("accessible-for-notify")
if mibBuilder.loadTexts:
    ocsNotifyPeerIdentity.setStatus("current")
_OcsNotifyAddressType_Type = InetAddressType
_OcsNotifyAddressType_Object = MibScalar
ocsNotifyAddressType = _OcsNotifyAddressType_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 5, 3),
    _OcsNotifyAddressType_Type()
)
ocsNotifyAddressType.setMaxAccess("accessible-for-notify")
if mibBuilder.loadTexts:
    ocsNotifyAddressType.setStatus("current")
_OcsNotifyAddress_Type = InetAddress
_OcsNotifyAddress_Object = MibScalar
ocsNotifyAddress = _OcsNotifyAddress_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 5, 4),
    _OcsNotifyAddress_Type()
)
ocsNotifyAddress.setMaxAccess("accessible-for-notify")
if mibBuilder.loadTexts:
    ocsNotifyAddress.setStatus("current")
_OcsNotifyText_Type = SnmpAdminString
_OcsNotifyText_Object = MibScalar
ocsNotifyText = _OcsNotifyText_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 5, 5),
    _OcsNotifyText_Type()
)
ocsNotifyText.setMaxAccess("accessible-for-notify")
if mibBuilder.loadTexts:
    ocsNotifyText.setStatus("current")
_OcsNotifyProductId_Type = SnmpAdminString
_OcsNotifyProductId_Object = MibScalar
ocsNotifyProductId = _OcsNotifyProductId_Object(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 5, 6),
    _OcsNotifyProductId_Type()
)
ocsNotifyProductId.setMaxAccess("accessible-for-notify")
if mibBuilder.loadTexts:
    ocsNotifyProductId.setStatus("current")
_OcsConformance_ObjectIdentity = ObjectIdentity
ocsConformance = _OcsConformance_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2)
)
_OcsCompliances_ObjectIdentity = ObjectIdentity
ocsCompliances = _OcsCompliances_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 1)
)
_OcsGroups_ObjectIdentity = ObjectIdentity
ocsGroups = _OcsGroups_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2)
)

# Managed Objects groups

ocsInventoryGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 1)
)
ocsInventoryGroup.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsOfferCount"),
        ("OCS-APPLIANCE-MIB", "ocsProductCount"),
        ("OCS-APPLIANCE-MIB", "ocsSubscriberCount"),
        ("OCS-APPLIANCE-MIB", "ocsBucketCount"),
        ("OCS-APPLIANCE-MIB", "ocsReservationCount"),
        ("OCS-APPLIANCE-MIB", "ocsClientCount"))
)
if mibBuilder.loadTexts:
    ocsInventoryGroup.setStatus("current")

ocsApplicationGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 2)
)
ocsApplicationGroup.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsAppName"),
        ("OCS-APPLIANCE-MIB", "ocsAppRequests"),
        ("OCS-APPLIANCE-MIB", "ocsAppAnswersSuccess"),
        ("OCS-APPLIANCE-MIB", "ocsAppAnswersProtocolError"),
        ("OCS-APPLIANCE-MIB", "ocsAppAnswersTransient"),
        ("OCS-APPLIANCE-MIB", "ocsAppAnswersPermanent"),
        ("OCS-APPLIANCE-MIB", "ocsAppRequestsDropped"))
)
if mibBuilder.loadTexts:
    ocsApplicationGroup.setStatus("current")

ocsLogGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 3)
)
ocsLogGroup.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsLogName"),
        ("OCS-APPLIANCE-MIB", "ocsLogDirectory"),
        ("OCS-APPLIANCE-MIB", "ocsLogFiles"),
        ("OCS-APPLIANCE-MIB", "ocsLogKBytes"),
        ("OCS-APPLIANCE-MIB", "ocsLogDiskUsedPercent"))
)
if mibBuilder.loadTexts:
    ocsLogGroup.setStatus("current")

ocsProcessGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 4)
)
ocsProcessGroup.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsProcessRole"),
        ("OCS-APPLIANCE-MIB", "ocsProcessStatus"))
)
if mibBuilder.loadTexts:
    ocsProcessGroup.setStatus("current")

ocsNotifyObjectGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 5)
)
ocsNotifyObjectGroup.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsNotifyProtocol"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyPeerIdentity"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddressType"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddress"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyText"))
)
if mibBuilder.loadTexts:
    ocsNotifyObjectGroup.setStatus("current")

ocsCreditObjectGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 7)
)
ocsCreditObjectGroup.setObjects(
    ("OCS-APPLIANCE-MIB", "ocsNotifyProductId")
)
if mibBuilder.loadTexts:
    ocsCreditObjectGroup.setStatus("current")


# Notification objects

ocsDiameterPeerUp = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 1)
)
ocsDiameterPeerUp.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsNotifyPeerIdentity"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddressType"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddress"))
)
if mibBuilder.loadTexts:
    ocsDiameterPeerUp.setStatus(
        "current"
    )

ocsDiameterPeerDown = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 2)
)
ocsDiameterPeerDown.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsNotifyPeerIdentity"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddressType"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddress"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyText"))
)
if mibBuilder.loadTexts:
    ocsDiameterPeerDown.setStatus(
        "current"
    )

ocsUnknownClient = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 3)
)
ocsUnknownClient.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsNotifyProtocol"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddressType"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyAddress"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyPeerIdentity"))
)
if mibBuilder.loadTexts:
    ocsUnknownClient.setStatus(
        "current"
    )

ocsLogDiskNearlyFull = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 4)
)
ocsLogDiskNearlyFull.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsLogName"),
        ("OCS-APPLIANCE-MIB", "ocsLogDirectory"),
        ("OCS-APPLIANCE-MIB", "ocsLogDiskUsedPercent"))
)
if mibBuilder.loadTexts:
    ocsLogDiskNearlyFull.setStatus(
        "current"
    )

ocsProcessRestarted = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 5)
)
ocsProcessRestarted.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsProcessRole"),
        ("OCS-APPLIANCE-MIB", "ocsProcessStatus"))
)
if mibBuilder.loadTexts:
    ocsProcessRestarted.setStatus(
        "current"
    )

ocsCertificateExpiring = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 6)
)
ocsCertificateExpiring.setObjects(
    ("OCS-APPLIANCE-MIB", "ocsNotifyText")
)
if mibBuilder.loadTexts:
    ocsCertificateExpiring.setStatus(
        "current"
    )

ocsOutOfCredit = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 7)
)
ocsOutOfCredit.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsNotifyProductId"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyText"))
)
if mibBuilder.loadTexts:
    ocsOutOfCredit.setStatus(
        "current"
    )

ocsCreditRestored = NotificationType(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 0, 8)
)
ocsCreditRestored.setObjects(
    ("OCS-APPLIANCE-MIB", "ocsNotifyProductId")
)
if mibBuilder.loadTexts:
    ocsCreditRestored.setStatus(
        "current"
    )


# Notifications groups

ocsNotificationGroup = NotificationGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 6)
)
ocsNotificationGroup.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsDiameterPeerUp"),
        ("OCS-APPLIANCE-MIB", "ocsDiameterPeerDown"),
        ("OCS-APPLIANCE-MIB", "ocsUnknownClient"),
        ("OCS-APPLIANCE-MIB", "ocsLogDiskNearlyFull"),
        ("OCS-APPLIANCE-MIB", "ocsProcessRestarted"),
        ("OCS-APPLIANCE-MIB", "ocsCertificateExpiring"))
)
if mibBuilder.loadTexts:
    ocsNotificationGroup.setStatus(
        "current"
    )

ocsCreditNotificationGroup = NotificationGroup(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 2, 8)
)
ocsCreditNotificationGroup.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsOutOfCredit"),
        ("OCS-APPLIANCE-MIB", "ocsCreditRestored"))
)
if mibBuilder.loadTexts:
    ocsCreditNotificationGroup.setStatus(
        "current"
    )


# Agent capabilities


# Module compliance

ocsCompliance = ModuleCompliance(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 1, 1)
)
ocsCompliance.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsInventoryGroup"),
        ("OCS-APPLIANCE-MIB", "ocsApplicationGroup"),
        ("OCS-APPLIANCE-MIB", "ocsLogGroup"),
        ("OCS-APPLIANCE-MIB", "ocsProcessGroup"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyObjectGroup"),
        ("OCS-APPLIANCE-MIB", "ocsNotificationGroup"))
)
if mibBuilder.loadTexts:
    ocsCompliance.setStatus(
        "deprecated"
    )

ocsCompliance2 = ModuleCompliance(
    (1, 3, 6, 1, 4, 1, 32473, 1, 1, 2, 1, 2)
)
ocsCompliance2.setObjects(
      *(("OCS-APPLIANCE-MIB", "ocsInventoryGroup"),
        ("OCS-APPLIANCE-MIB", "ocsApplicationGroup"),
        ("OCS-APPLIANCE-MIB", "ocsLogGroup"),
        ("OCS-APPLIANCE-MIB", "ocsProcessGroup"),
        ("OCS-APPLIANCE-MIB", "ocsNotifyObjectGroup"),
        ("OCS-APPLIANCE-MIB", "ocsNotificationGroup"),
        ("OCS-APPLIANCE-MIB", "ocsCreditObjectGroup"),
        ("OCS-APPLIANCE-MIB", "ocsCreditNotificationGroup"))
)
if mibBuilder.loadTexts:
    ocsCompliance2.setStatus(
        "current"
    )


# Export all MIB objects to the MIB builder

mibBuilder.export_symbols(
    "OCS-APPLIANCE-MIB",
    **{"ocsApplianceMIB": ocsApplianceMIB,
       "ocsNotifications": ocsNotifications,
       "ocsDiameterPeerUp": ocsDiameterPeerUp,
       "ocsDiameterPeerDown": ocsDiameterPeerDown,
       "ocsUnknownClient": ocsUnknownClient,
       "ocsLogDiskNearlyFull": ocsLogDiskNearlyFull,
       "ocsProcessRestarted": ocsProcessRestarted,
       "ocsCertificateExpiring": ocsCertificateExpiring,
       "ocsOutOfCredit": ocsOutOfCredit,
       "ocsCreditRestored": ocsCreditRestored,
       "ocsObjects": ocsObjects,
       "ocsInventory": ocsInventory,
       "ocsOfferCount": ocsOfferCount,
       "ocsProductCount": ocsProductCount,
       "ocsSubscriberCount": ocsSubscriberCount,
       "ocsBucketCount": ocsBucketCount,
       "ocsReservationCount": ocsReservationCount,
       "ocsClientCount": ocsClientCount,
       "ocsApplications": ocsApplications,
       "ocsAppTable": ocsAppTable,
       "ocsAppEntry": ocsAppEntry,
       "ocsAppId": ocsAppId,
       "ocsAppName": ocsAppName,
       "ocsAppRequests": ocsAppRequests,
       "ocsAppAnswersSuccess": ocsAppAnswersSuccess,
       "ocsAppAnswersProtocolError": ocsAppAnswersProtocolError,
       "ocsAppAnswersTransient": ocsAppAnswersTransient,
       "ocsAppAnswersPermanent": ocsAppAnswersPermanent,
       "ocsAppRequestsDropped": ocsAppRequestsDropped,
       "ocsLogs": ocsLogs,
       "ocsLogTable": ocsLogTable,
       "ocsLogEntry": ocsLogEntry,
       "ocsLogIndex": ocsLogIndex,
       "ocsLogName": ocsLogName,
       "ocsLogDirectory": ocsLogDirectory,
       "ocsLogFiles": ocsLogFiles,
       "ocsLogKBytes": ocsLogKBytes,
       "ocsLogDiskUsedPercent": ocsLogDiskUsedPercent,
       "ocsProcesses": ocsProcesses,
       "ocsProcessTable": ocsProcessTable,
       "ocsProcessEntry": ocsProcessEntry,
       "ocsProcessPid": ocsProcessPid,
       "ocsProcessRole": ocsProcessRole,
       "ocsProcessStatus": ocsProcessStatus,
       "ocsNotifyObjects": ocsNotifyObjects,
       "ocsNotifyProtocol": ocsNotifyProtocol,
       "ocsNotifyPeerIdentity": ocsNotifyPeerIdentity,
       "ocsNotifyAddressType": ocsNotifyAddressType,
       "ocsNotifyAddress": ocsNotifyAddress,
       "ocsNotifyText": ocsNotifyText,
       "ocsNotifyProductId": ocsNotifyProductId,
       "ocsConformance": ocsConformance,
       "ocsCompliances": ocsCompliances,
       "ocsCompliance": ocsCompliance,
       "ocsCompliance2": ocsCompliance2,
       "ocsGroups": ocsGroups,
       "ocsInventoryGroup": ocsInventoryGroup,
       "ocsApplicationGroup": ocsApplicationGroup,
       "ocsLogGroup": ocsLogGroup,
       "ocsProcessGroup": ocsProcessGroup,
       "ocsNotifyObjectGroup": ocsNotifyObjectGroup,
       "ocsNotificationGroup": ocsNotificationGroup,
       "ocsCreditObjectGroup": ocsCreditObjectGroup,
       "ocsCreditNotificationGroup": ocsCreditNotificationGroup}
)
