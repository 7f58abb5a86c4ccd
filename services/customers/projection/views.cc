#include "services/customers/projection/views.h"

namespace cowork::customers::projection {

v1::Customer CustomerView(const domain::CustomerState& s) {
  v1::Customer c;
  c.set_customer_id(s.customer_id());
  c.set_operator_id(s.operator_id());
  c.set_home_location_id(s.home_location_id());
  c.set_type(s.type());
  c.set_kind(s.active_contract_ids_size() > 0 ? v1::MEMBER : v1::CONTACT);
  c.set_status(s.suspended() ? v1::SUSPENDED : v1::ACTIVE);
  if (!s.erased()) {
    const v1::PersonalData& p = s.personal();
    c.set_first_name(p.first_name());
    c.set_last_name(p.last_name());
    c.set_email(p.email());
    c.set_phone(p.phone());
    c.set_company_name(p.company_name());
    c.set_primary_contact_name(p.primary_contact_name());
    c.set_primary_contact_email(p.primary_contact_email());
  }
  c.set_has_user_account(s.has_user_account());
  c.set_source(s.source());
  c.set_erased(s.erased());
  *c.mutable_active_contract_ids() = s.active_contract_ids();
  *c.mutable_create_time() = s.create_time();
  *c.mutable_update_time() = s.update_time();
  return c;
}

v1::Team TeamView(const domain::TeamState& s) {
  v1::Team t;
  t.set_team_id(s.team_id());
  t.set_operator_id(s.operator_id());
  t.set_location_id(s.location_id());
  t.set_name(s.name());
  *t.mutable_member_ids() = s.member_ids();
  t.set_paying_member_id(s.paying_member_id());
  t.set_share_booking_credit(s.share_booking_credit());
  t.set_share_printing_credit(s.share_printing_credit());
  t.set_share_access(s.share_access());
  *t.mutable_create_time() = s.create_time();
  return t;
}

v1::Location LocationView(const domain::LocationState& s) {
  v1::Location l;
  l.set_location_id(s.location_id());
  l.set_operator_id(s.operator_id());
  l.set_name(s.name());
  l.set_time_zone(s.time_zone());
  l.set_currency(s.currency());
  *l.mutable_create_time() = s.create_time();
  return l;
}

v1::Operator OperatorView(const domain::OperatorState& s) {
  v1::Operator o;
  o.set_operator_id(s.operator_id());
  o.set_name(s.name());
  *o.mutable_create_time() = s.create_time();
  return o;
}

}  // namespace cowork::customers::projection
