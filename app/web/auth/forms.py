"""Sign-in and registration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(
        _l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=64)]
    )
    password = PasswordField(
        _l("密码"), validators=[DataRequired(_l("请输入密码。")), Length(max=256)]
    )


class RegisterForm(FlaskForm):
    uscc = StringField(
        _l("统一社会信用代码"), validators=[DataRequired(_l("请输入统一社会信用代码。"))]
    )
    name = StringField(_l("企业名称"), validators=[DataRequired(_l("请输入企业名称。"))])
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。"))])
    password_confirm = PasswordField(
        _l("确认密码"), validators=[DataRequired(_l("请再次输入密码。"))]
    )
