# ruff: noqa
# SNMP MIB module (DIAMETER-BASE-PROTOCOL-MIB) expressed in pysnmp data model.
#
# This Python module is designed to be imported and executed by the
# pysnmp library.
#
# See https://www.pysnmp.com/pysnmp for further information.
#
# Notes
# -----
# ASN.1 source DIAMETER-BASE-PROTOCOL-MIB.txt
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
 InetAddressType,
 InetPortNumber) = mibBuilder.import_symbols(
    "INET-ADDRESS-MIB",
    "InetAddress",
    "InetAddressType",
    "InetPortNumber")

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

diameterBaseProtocolMIB = ModuleIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1)
)
if mibBuilder.loadTexts:
    diameterBaseProtocolMIB.setRevisions(
        ("2026-11-23 12:00",
         "2026-11-23 00:00")
    )


# Types definitions


# TEXTUAL-CONVENTIONS



# MIB Managed Objects in the order of their OIDs

_DiameterBaseObjects_ObjectIdentity = ObjectIdentity
diameterBaseObjects = _DiameterBaseObjects_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1)
)
_DbpLocalCfgs_ObjectIdentity = ObjectIdentity
dbpLocalCfgs = _DbpLocalCfgs_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 1)
)
_DbpLocalId_Type = SnmpAdminString
_DbpLocalId_Object = MibScalar
dbpLocalId = _DbpLocalId_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 1, 1),
    _DbpLocalId_Type()
)
dbpLocalId.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpLocalId.setStatus("current")
_DbpLocalOriginHost_Type = SnmpAdminString
_DbpLocalOriginHost_Object = MibScalar
dbpLocalOriginHost = _DbpLocalOriginHost_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 1, 2),
    _DbpLocalOriginHost_Type()
)
dbpLocalOriginHost.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpLocalOriginHost.setStatus("current")
_DbpLocalRealm_Type = SnmpAdminString
_DbpLocalRealm_Object = MibScalar
dbpLocalRealm = _DbpLocalRealm_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 1, 3),
    _DbpLocalRealm_Type()
)
dbpLocalRealm.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpLocalRealm.setStatus("current")
_DbpLocalTcpListenPort_Type = InetPortNumber
_DbpLocalTcpListenPort_Object = MibScalar
dbpLocalTcpListenPort = _DbpLocalTcpListenPort_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 1, 4),
    _DbpLocalTcpListenPort_Type()
)
dbpLocalTcpListenPort.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpLocalTcpListenPort.setStatus("current")
_DbpLocalSctpListenPort_Type = InetPortNumber
_DbpLocalSctpListenPort_Object = MibScalar
dbpLocalSctpListenPort = _DbpLocalSctpListenPort_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 1, 5),
    _DbpLocalSctpListenPort_Type()
)
dbpLocalSctpListenPort.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpLocalSctpListenPort.setStatus("current")
_DbpPeerCfgs_ObjectIdentity = ObjectIdentity
dbpPeerCfgs = _DbpPeerCfgs_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2)
)
_DbpPeerTable_Object = MibTable
dbpPeerTable = _DbpPeerTable_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1)
)
if mibBuilder.loadTexts:
    dbpPeerTable.setStatus("current")
_DbpPeerEntry_Object = MibTableRow
dbpPeerEntry = _DbpPeerEntry_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1)
)
dbpPeerEntry.setIndexNames(
    (0, "DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerIndex"),
)
if mibBuilder.loadTexts:
    dbpPeerEntry.setStatus("current")


class _DbpPeerIndex_Type(Unsigned32):
    """Custom type dbpPeerIndex based on Unsigned32"""
    subtypeSpec = Unsigned32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        ValueRangeConstraint(1, 4294967295),
    )


_DbpPeerIndex_Type.__name__ = "Unsigned32"
_DbpPeerIndex_Object = MibTableColumn
dbpPeerIndex = _DbpPeerIndex_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 1),
    _DbpPeerIndex_Type()
)
dbpPeerIndex.setMaxAccess("not-accessible")
if mibBuilder.loadTexts:
    dbpPeerIndex.setStatus("current")
_DbpPeerId_Type = SnmpAdminString
_DbpPeerId_Object = MibTableColumn
dbpPeerId = _DbpPeerId_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 2),
    _DbpPeerId_Type()
)
dbpPeerId.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerId.setStatus("current")
_DbpPeerRealm_Type = SnmpAdminString
_DbpPeerRealm_Object = MibTableColumn
dbpPeerRealm = _DbpPeerRealm_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 3),
    _DbpPeerRealm_Type()
)
dbpPeerRealm.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerRealm.setStatus("current")
_DbpPeerPortConnect_Type = InetPortNumber
_DbpPeerPortConnect_Object = MibTableColumn
dbpPeerPortConnect = _DbpPeerPortConnect_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 4),
    _DbpPeerPortConnect_Type()
)
dbpPeerPortConnect.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerPortConnect.setStatus("current")


class _DbpPeerProtocol_Type(Integer32):
    """Custom type dbpPeerProtocol based on Integer32"""
    subtypeSpec = Integer32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        SingleValueConstraint(
            *(1,
              2)
        )
    )
    namedValues = NamedValues(
        *(("tcp", 1),
          ("sctp", 2))
    )


_DbpPeerProtocol_Type.__name__ = "Integer32"
_DbpPeerProtocol_Object = MibTableColumn
dbpPeerProtocol = _DbpPeerProtocol_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 5),
    _DbpPeerProtocol_Type()
)
dbpPeerProtocol.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerProtocol.setStatus("current")


class _DbpPeerSecurity_Type(Integer32):
    """Custom type dbpPeerSecurity based on Integer32"""
    subtypeSpec = Integer32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        SingleValueConstraint(
            *(1,
              2,
              3)
        )
    )
    namedValues = NamedValues(
        *(("other", 1),
          ("tls", 2),
          ("ipsec", 3))
    )


_DbpPeerSecurity_Type.__name__ = "Integer32"
_DbpPeerSecurity_Object = MibTableColumn
dbpPeerSecurity = _DbpPeerSecurity_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 6),
    _DbpPeerSecurity_Type()
)
dbpPeerSecurity.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerSecurity.setStatus("current")
_DbpPeerFirmwareRevision_Type = Unsigned32
_DbpPeerFirmwareRevision_Object = MibTableColumn
dbpPeerFirmwareRevision = _DbpPeerFirmwareRevision_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 7),
    _DbpPeerFirmwareRevision_Type()
)
dbpPeerFirmwareRevision.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerFirmwareRevision.setStatus("current")
_DbpPeerIpAddressType_Type = InetAddressType
_DbpPeerIpAddressType_Object = MibTableColumn
dbpPeerIpAddressType = _DbpPeerIpAddressType_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 8),
    _DbpPeerIpAddressType_Type()
)
dbpPeerIpAddressType.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerIpAddressType.setStatus("current")
_DbpPeerIpAddress_Type = InetAddress
_DbpPeerIpAddress_Object = MibTableColumn
dbpPeerIpAddress = _DbpPeerIpAddress_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 2, 1, 1, 9),
    _DbpPeerIpAddress_Type()
)
dbpPeerIpAddress.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerIpAddress.setStatus("current")
_DbpPeerStats_ObjectIdentity = ObjectIdentity
dbpPeerStats = _DbpPeerStats_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3)
)
_DbpPeerStatsTable_Object = MibTable
dbpPeerStatsTable = _DbpPeerStatsTable_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1)
)
if mibBuilder.loadTexts:
    dbpPeerStatsTable.setStatus("current")
_DbpPeerStatsEntry_Object = MibTableRow
dbpPeerStatsEntry = _DbpPeerStatsEntry_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1)
)
if mibBuilder.loadTexts:
    dbpPeerStatsEntry.setStatus("current")


class _DbpPeerStatsState_Type(Integer32):
    """Custom type dbpPeerStatsState based on Integer32"""
    subtypeSpec = Integer32.subtypeSpec
    subtypeSpec += ConstraintsUnion(
        SingleValueConstraint(
            *(1,
              2,
              3,
              4,
              5,
              6,
              7,
              8)
        )
    )
    namedValues = NamedValues(
        *(("closed", 1),
          ("waitConnAck", 2),
          ("waitICEA", 3),
          ("elect", 4),
          ("waitReturns", 5),
          ("rOpen", 6),
          ("iOpen", 7),
          ("closing", 8))
    )


_DbpPeerStatsState_Type.__name__ = "Integer32"
_DbpPeerStatsState_Object = MibTableColumn
dbpPeerStatsState = _DbpPeerStatsState_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 1),
    _DbpPeerStatsState_Type()
)
dbpPeerStatsState.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsState.setStatus("current")
_DbpPeerStatsStateDuration_Type = TimeTicks
_DbpPeerStatsStateDuration_Object = MibTableColumn
dbpPeerStatsStateDuration = _DbpPeerStatsStateDuration_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 2),
    _DbpPeerStatsStateDuration_Type()
)
dbpPeerStatsStateDuration.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsStateDuration.setStatus("current")
_DbpPeerStatsRequestsIn_Type = Counter32
_DbpPeerStatsRequestsIn_Object = MibTableColumn
dbpPeerStatsRequestsIn = _DbpPeerStatsRequestsIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 3),
    _DbpPeerStatsRequestsIn_Type()
)
dbpPeerStatsRequestsIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsRequestsIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsRequestsIn.setUnits("messages")
_DbpPeerStatsAnswersOut_Type = Counter32
_DbpPeerStatsAnswersOut_Object = MibTableColumn
dbpPeerStatsAnswersOut = _DbpPeerStatsAnswersOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 4),
    _DbpPeerStatsAnswersOut_Type()
)
dbpPeerStatsAnswersOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsAnswersOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsAnswersOut.setUnits("messages")
_DbpPeerStatsRequestsOut_Type = Counter32
_DbpPeerStatsRequestsOut_Object = MibTableColumn
dbpPeerStatsRequestsOut = _DbpPeerStatsRequestsOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 5),
    _DbpPeerStatsRequestsOut_Type()
)
dbpPeerStatsRequestsOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsRequestsOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsRequestsOut.setUnits("messages")
_DbpPeerStatsAnswersIn_Type = Counter32
_DbpPeerStatsAnswersIn_Object = MibTableColumn
dbpPeerStatsAnswersIn = _DbpPeerStatsAnswersIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 6),
    _DbpPeerStatsAnswersIn_Type()
)
dbpPeerStatsAnswersIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsAnswersIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsAnswersIn.setUnits("messages")
_DbpPeerStatsMalformedReqsts_Type = Counter32
_DbpPeerStatsMalformedReqsts_Object = MibTableColumn
dbpPeerStatsMalformedReqsts = _DbpPeerStatsMalformedReqsts_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 7),
    _DbpPeerStatsMalformedReqsts_Type()
)
dbpPeerStatsMalformedReqsts.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsMalformedReqsts.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsMalformedReqsts.setUnits("messages")
_DbpPeerStatsCERsIn_Type = Counter32
_DbpPeerStatsCERsIn_Object = MibTableColumn
dbpPeerStatsCERsIn = _DbpPeerStatsCERsIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 8),
    _DbpPeerStatsCERsIn_Type()
)
dbpPeerStatsCERsIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsCERsIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsCERsIn.setUnits("messages")
_DbpPeerStatsCERsOut_Type = Counter32
_DbpPeerStatsCERsOut_Object = MibTableColumn
dbpPeerStatsCERsOut = _DbpPeerStatsCERsOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 9),
    _DbpPeerStatsCERsOut_Type()
)
dbpPeerStatsCERsOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsCERsOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsCERsOut.setUnits("messages")
_DbpPeerStatsCEAsIn_Type = Counter32
_DbpPeerStatsCEAsIn_Object = MibTableColumn
dbpPeerStatsCEAsIn = _DbpPeerStatsCEAsIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 10),
    _DbpPeerStatsCEAsIn_Type()
)
dbpPeerStatsCEAsIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsCEAsIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsCEAsIn.setUnits("messages")
_DbpPeerStatsCEAsOut_Type = Counter32
_DbpPeerStatsCEAsOut_Object = MibTableColumn
dbpPeerStatsCEAsOut = _DbpPeerStatsCEAsOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 11),
    _DbpPeerStatsCEAsOut_Type()
)
dbpPeerStatsCEAsOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsCEAsOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsCEAsOut.setUnits("messages")
_DbpPeerStatsDWRsIn_Type = Counter32
_DbpPeerStatsDWRsIn_Object = MibTableColumn
dbpPeerStatsDWRsIn = _DbpPeerStatsDWRsIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 12),
    _DbpPeerStatsDWRsIn_Type()
)
dbpPeerStatsDWRsIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDWRsIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDWRsIn.setUnits("messages")
_DbpPeerStatsDWRsOut_Type = Counter32
_DbpPeerStatsDWRsOut_Object = MibTableColumn
dbpPeerStatsDWRsOut = _DbpPeerStatsDWRsOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 13),
    _DbpPeerStatsDWRsOut_Type()
)
dbpPeerStatsDWRsOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDWRsOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDWRsOut.setUnits("messages")
_DbpPeerStatsDWAsIn_Type = Counter32
_DbpPeerStatsDWAsIn_Object = MibTableColumn
dbpPeerStatsDWAsIn = _DbpPeerStatsDWAsIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 14),
    _DbpPeerStatsDWAsIn_Type()
)
dbpPeerStatsDWAsIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDWAsIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDWAsIn.setUnits("messages")
_DbpPeerStatsDWAsOut_Type = Counter32
_DbpPeerStatsDWAsOut_Object = MibTableColumn
dbpPeerStatsDWAsOut = _DbpPeerStatsDWAsOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 15),
    _DbpPeerStatsDWAsOut_Type()
)
dbpPeerStatsDWAsOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDWAsOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDWAsOut.setUnits("messages")
_DbpPeerStatsDPRsIn_Type = Counter32
_DbpPeerStatsDPRsIn_Object = MibTableColumn
dbpPeerStatsDPRsIn = _DbpPeerStatsDPRsIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 16),
    _DbpPeerStatsDPRsIn_Type()
)
dbpPeerStatsDPRsIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDPRsIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDPRsIn.setUnits("messages")
_DbpPeerStatsDPRsOut_Type = Counter32
_DbpPeerStatsDPRsOut_Object = MibTableColumn
dbpPeerStatsDPRsOut = _DbpPeerStatsDPRsOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 17),
    _DbpPeerStatsDPRsOut_Type()
)
dbpPeerStatsDPRsOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDPRsOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDPRsOut.setUnits("messages")
_DbpPeerStatsDPAsIn_Type = Counter32
_DbpPeerStatsDPAsIn_Object = MibTableColumn
dbpPeerStatsDPAsIn = _DbpPeerStatsDPAsIn_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 18),
    _DbpPeerStatsDPAsIn_Type()
)
dbpPeerStatsDPAsIn.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDPAsIn.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDPAsIn.setUnits("messages")
_DbpPeerStatsDPAsOut_Type = Counter32
_DbpPeerStatsDPAsOut_Object = MibTableColumn
dbpPeerStatsDPAsOut = _DbpPeerStatsDPAsOut_Object(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 1, 3, 1, 1, 19),
    _DbpPeerStatsDPAsOut_Type()
)
dbpPeerStatsDPAsOut.setMaxAccess("read-only")
if mibBuilder.loadTexts:
    dbpPeerStatsDPAsOut.setStatus("current")
if mibBuilder.loadTexts:
    dbpPeerStatsDPAsOut.setUnits("messages")
_DiameterBaseConform_ObjectIdentity = ObjectIdentity
diameterBaseConform = _DiameterBaseConform_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 2)
)
_DbpCompliances_ObjectIdentity = ObjectIdentity
dbpCompliances = _DbpCompliances_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 2, 1)
)
_DbpGroups_ObjectIdentity = ObjectIdentity
dbpGroups = _DbpGroups_ObjectIdentity(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 2, 2)
)
dbpPeerEntry.registerAugmentions(
    ("DIAMETER-BASE-PROTOCOL-MIB",
     "dbpPeerStatsEntry")
)
dbpPeerStatsEntry.setIndexNames(*dbpPeerEntry.getIndexNames())

# Managed Objects groups

dbpLocalCfgGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 2, 2, 1)
)
dbpLocalCfgGroup.setObjects(
      *(("DIAMETER-BASE-PROTOCOL-MIB", "dbpLocalId"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpLocalOriginHost"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpLocalRealm"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpLocalTcpListenPort"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpLocalSctpListenPort"))
)
if mibBuilder.loadTexts:
    dbpLocalCfgGroup.setStatus("current")

dbpPeerCfgGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 2, 2, 2)
)
dbpPeerCfgGroup.setObjects(
      *(("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerId"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerRealm"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerPortConnect"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerProtocol"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerSecurity"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerFirmwareRevision"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerIpAddressType"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerIpAddress"))
)
if mibBuilder.loadTexts:
    dbpPeerCfgGroup.setStatus("current")

dbpPeerStatsGroup = ObjectGroup(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 2, 2, 3)
)
dbpPeerStatsGroup.setObjects(
      *(("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsState"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsStateDuration"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsRequestsIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsAnswersOut"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsRequestsOut"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsAnswersIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsMalformedReqsts"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsCERsIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsCERsOut"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsCEAsIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsCEAsOut"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDWRsIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDWRsOut"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDWAsIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDWAsOut"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDPRsIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDPRsOut"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDPAsIn"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsDPAsOut"))
)
if mibBuilder.loadTexts:
    dbpPeerStatsGroup.setStatus("current")


# Notification objects


# Notifications groups


# Agent capabilities


# Module compliance

dbpCompliance = ModuleCompliance(
    (1, 3, 6, 1, 4, 1, 32473, 3, 1, 2, 1, 1)
)
dbpCompliance.setObjects(
      *(("DIAMETER-BASE-PROTOCOL-MIB", "dbpLocalCfgGroup"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerCfgGroup"),
        ("DIAMETER-BASE-PROTOCOL-MIB", "dbpPeerStatsGroup"))
)
if mibBuilder.loadTexts:
    dbpCompliance.setStatus(
        "current"
    )


# Export all MIB objects to the MIB builder

mibBuilder.export_symbols(
    "DIAMETER-BASE-PROTOCOL-MIB",
    **{"diameterBaseProtocolMIB": diameterBaseProtocolMIB,
       "diameterBaseObjects": diameterBaseObjects,
       "dbpLocalCfgs": dbpLocalCfgs,
       "dbpLocalId": dbpLocalId,
       "dbpLocalOriginHost": dbpLocalOriginHost,
       "dbpLocalRealm": dbpLocalRealm,
       "dbpLocalTcpListenPort": dbpLocalTcpListenPort,
       "dbpLocalSctpListenPort": dbpLocalSctpListenPort,
       "dbpPeerCfgs": dbpPeerCfgs,
       "dbpPeerTable": dbpPeerTable,
       "dbpPeerEntry": dbpPeerEntry,
       "dbpPeerIndex": dbpPeerIndex,
       "dbpPeerId": dbpPeerId,
       "dbpPeerRealm": dbpPeerRealm,
       "dbpPeerPortConnect": dbpPeerPortConnect,
       "dbpPeerProtocol": dbpPeerProtocol,
       "dbpPeerSecurity": dbpPeerSecurity,
       "dbpPeerFirmwareRevision": dbpPeerFirmwareRevision,
       "dbpPeerIpAddressType": dbpPeerIpAddressType,
       "dbpPeerIpAddress": dbpPeerIpAddress,
       "dbpPeerStats": dbpPeerStats,
       "dbpPeerStatsTable": dbpPeerStatsTable,
       "dbpPeerStatsEntry": dbpPeerStatsEntry,
       "dbpPeerStatsState": dbpPeerStatsState,
       "dbpPeerStatsStateDuration": dbpPeerStatsStateDuration,
       "dbpPeerStatsRequestsIn": dbpPeerStatsRequestsIn,
       "dbpPeerStatsAnswersOut": dbpPeerStatsAnswersOut,
       "dbpPeerStatsRequestsOut": dbpPeerStatsRequestsOut,
       "dbpPeerStatsAnswersIn": dbpPeerStatsAnswersIn,
       "dbpPeerStatsMalformedReqsts": dbpPeerStatsMalformedReqsts,
       "dbpPeerStatsCERsIn": dbpPeerStatsCERsIn,
       "dbpPeerStatsCERsOut": dbpPeerStatsCERsOut,
       "dbpPeerStatsCEAsIn": dbpPeerStatsCEAsIn,
       "dbpPeerStatsCEAsOut": dbpPeerStatsCEAsOut,
       "dbpPeerStatsDWRsIn": dbpPeerStatsDWRsIn,
       "dbpPeerStatsDWRsOut": dbpPeerStatsDWRsOut,
       "dbpPeerStatsDWAsIn": dbpPeerStatsDWAsIn,
       "dbpPeerStatsDWAsOut": dbpPeerStatsDWAsOut,
       "dbpPeerStatsDPRsIn": dbpPeerStatsDPRsIn,
       "dbpPeerStatsDPRsOut": dbpPeerStatsDPRsOut,
       "dbpPeerStatsDPAsIn": dbpPeerStatsDPAsIn,
       "dbpPeerStatsDPAsOut": dbpPeerStatsDPAsOut,
       "diameterBaseConform": diameterBaseConform,
       "dbpCompliances": dbpCompliances,
       "dbpCompliance": dbpCompliance,
       "dbpGroups": dbpGroups,
       "dbpLocalCfgGroup": dbpLocalCfgGroup,
       "dbpPeerCfgGroup": dbpPeerCfgGroup,
       "dbpPeerStatsGroup": dbpPeerStatsGroup}
)
